import {
  conversation as decider,
  describeRefusal,
  EVENT_TYPES,
  fold,
  isDomainError,
  toConversationCommand,
  type ClientCommand,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type MessageTemplate,
} from '@parley/domain';
import type { CommandRef, EventRow, OutboxRow, Refusal } from './db/schema';

/**
 * The domain's conversation decider, run on this device (decision 0019). The PWA never builds an
 * event itself: it gives the decider a command (time and ids passed in) and the conversation as it
 * knows it, and shows what the decider answers, exactly as the server will decide it.
 */

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPES.conversation);

/**
 * A stored conversation event as the domain's type. Stored rows came from the server's log (the
 * server's `decide`) or from this device's `decide`; a type this build does not know is left out.
 */
export function asConversationEvent(row: Pick<EventRow, 'type' | 'data'>): ConversationEvent | null {
  return KNOWN.has(row.type) ? ({ type: row.type, data: row.data } as unknown as ConversationEvent) : null;
}

/** The conversation as this device knows it: its stored events, in stream order, folded with `evolve`. */
export function localConversation(rows: readonly EventRow[]): ConversationState {
  const events = [...rows]
    .sort((a, b) => a.version - b.version)
    .flatMap((row) => asConversationEvent(row) ?? []);
  return fold(decider, decider.initialState(), events);
}

/** What the decider answered on this device: its events and the state they lead to, or its refusal. */
export type LocalDecision =
  | {
      readonly ok: true;
      readonly events: readonly ConversationEvent[];
      readonly state: ConversationState;
    }
  | ({ readonly ok: false } & Refusal);

/**
 * Runs `decide` on `state` and folds the result with `evolve`. A broken rule comes back as the
 * domain's refusal (code, rule, message, hint); anything else thrown is a bug and is rethrown.
 */
export function decideLocally(state: ConversationState, command: ConversationCommand): LocalDecision {
  try {
    const events = decider.decide(command, state);
    return { ok: true, events, state: fold(decider, state, events) };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return { ok: false, ...refusalOf(error) };
  }
}

/** What a device's command is decided with: the acting agent, the time, the templates it knows. */
export interface CommandContext {
  readonly agentId: string;
  readonly now: number;
  readonly templates: readonly MessageTemplate[];
}

/**
 * Decides a device's command (the contract's `ClientCommand`) on `state`: the domain's
 * `toConversationCommand` makes it the domain command the server will decide, then `decide` and
 * `evolve` run here exactly as there.
 */
export function decideCommand(
  state: ConversationState,
  command: ClientCommand,
  context: CommandContext,
): LocalDecision {
  let domainCommand: ConversationCommand;
  try {
    domainCommand = toConversationCommand(command, context);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return { ok: false, ...refusalOf(error) };
  }
  return decideLocally(state, domainCommand);
}

function refusalOf(error: {
  code: string;
  message: string;
  details: { rule?: string; hint?: string };
}): Refusal {
  return {
    code: error.code,
    rule: error.details.rule ?? null,
    message: error.message,
    hint: error.details.hint ?? null,
  };
}

/** A pending command after a rebase: still allowed (with what it now decides), or now refused. */
export type PendingOutcome =
  | { readonly row: OutboxRow; readonly ok: true; readonly events: readonly ConversationEvent[] }
  | { readonly row: OutboxRow; readonly ok: false; readonly refusal: Refusal };

/** The synced state with this device's pending commands decided on it, in their sending order. */
export interface Rebased {
  readonly state: ConversationState;
  /** The pending commands' events, in order: shown at once, marked pending, never stored. */
  readonly events: readonly ConversationEvent[];
  readonly outcomes: readonly PendingOutcome[];
}

/** The key of a device command: `clientId/sequence`. */
function commandKey(ref: CommandRef): string {
  return `${ref.clientId}/${ref.sequence}`;
}

/**
 * The device commands the synced events say they came from (the server's `metadata.command`,
 * docs/sync-protocol.md "Commands"), as keys for `rebase`'s `inLog`.
 */
export function commandsInLog(events: readonly Pick<EventRow, 'metadata'>[]): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const { metadata } of events) {
    const ref = metadata.command as Partial<CommandRef> | undefined;
    if (typeof ref?.clientId === 'string' && typeof ref.sequence === 'number')
      keys.add(commandKey(ref as CommandRef));
  }
  return keys;
}

/** True when the synced events hold what this row's command made (its answer may have been lost). */
export function isInLog(row: OutboxRow, inLog: ReadonlySet<string>): boolean {
  return row.sent !== undefined && inLog.has(commandKey(row.sent));
}

/**
 * Rebases this device's waiting commands on `synced` (the server's events as far as they have
 * arrived): each is decided again, in sequence order, on the state the ones before it lead to, at
 * `now` (the server decides when it receives them, not when they were queued). A command the new
 * state refuses (the window closed meanwhile, the conversation was erased) is reported refused
 * with the domain's code; the server will decide it once more when it arrives. Refused rows and
 * other conversations' rows are left out, and so is a command whose events `synced` already holds
 * (`inLog`, from `commandsInLog`: its answer was lost or is on its way), so it is never shown twice.
 */
export function rebase(
  synced: ConversationState,
  rows: readonly OutboxRow[],
  context: {
    readonly now: number;
    readonly templates: readonly MessageTemplate[];
    /** The device commands the synced events came from (`commandsInLog`). */
    readonly inLog?: ReadonlySet<string>;
  },
): Rebased {
  const inLog = context.inLog;
  const waiting = rows
    .filter((row) => row.sequence !== undefined && row.refusal === null && !(inLog && isInLog(row, inLog)))
    .sort((a, b) => a.sequence! - b.sequence!);
  let state = synced;
  const events: ConversationEvent[] = [];
  const outcomes: PendingOutcome[] = [];
  for (const row of waiting) {
    const decision = decideCommand(state, row.command, {
      agentId: row.agentId,
      now: context.now,
      templates: context.templates,
    });
    if (decision.ok) {
      state = decision.state;
      events.push(...decision.events);
      outcomes.push({ row, ok: true, events: decision.events });
    } else {
      const { ok: _ok, ...refusal } = decision;
      outcomes.push({
        row,
        ok: false,
        refusal: { ...refusal, ...(row.queuedOffline && { queuedOffline: true }) },
      });
    }
  }
  return { state, events, outcomes };
}

/**
 * A refusal in words for the agent: the domain's sentence and next step for its code
 * (`describeRefusal`, worded for a command queued offline or not: rule CC3), the server's or
 * rule's own words for a code the domain does not describe.
 */
export function explainRefusal(refusal: Refusal): {
  readonly message: string;
  readonly nextStep: string | null;
} {
  const described = describeRefusal(refusal.code, { queuedOffline: refusal.queuedOffline === true });
  if (described.message !== UNDESCRIBED.message) return described;
  return { message: sentence(refusal.message), nextStep: refusal.hint ? sentence(refusal.hint) : null };
}

/** What `describeRefusal` answers for a code it does not know. */
const UNDESCRIBED = describeRefusal('');

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const first = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
