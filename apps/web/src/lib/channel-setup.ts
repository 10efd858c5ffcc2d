import type { Platform } from '@parley/domain';
import { errorData } from './api/client';

/** Each platform's name as the setup screen shows it. */
export const PLATFORM_LABEL: Readonly<Record<Platform, string>> = {
  whatsapp: 'WhatsApp Cloud',
  messenger: 'Messenger',
  instagram: 'Instagram',
  telegram: 'Telegram',
  webchat: 'Web chat',
};

/** The server's sentence for a refused change, or what went wrong on the way. */
export function refusalText(error: unknown, what: string): string {
  const status = errorData(error)?.httpStatus;
  if (status === undefined) return `${what}: the server could not be reached. Try again.`;
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === 403) return 'Only an admin of this workspace may change channels.';
  return `${what}: ${error instanceof Error ? error.message : String(error)}`;
}
