import type { Refusal } from '../lib/db/schema';
import { explainRefusal } from '../lib/decide';

/** A refusal as one line for the agent: the domain's sentence, then what to do instead. */
export function refusalText(refusal: Refusal): string {
  const { message, nextStep } = explainRefusal(refusal);
  return nextStep ? `${message}. ${nextStep}.` : `${message}.`;
}
