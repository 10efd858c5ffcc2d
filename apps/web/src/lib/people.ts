import { isRole, readsReports } from '@parley/domain';
import { errorData } from './api/client';

/** The roles, as the People screen names them (rule PE1). */
export const ROLE_LABELS = { admin: 'Admin', supervisor: 'Supervisor', agent: 'Agent' } as const;
/** What each role may do, in a line. */
export const ROLE_HINTS = {
  admin: 'manages people, inboxes, channels and settings',
  supervisor: 'sees every inbox and the reports; changes no settings',
  agent: 'answers the conversations of their inboxes',
} as const;
export type RoleName = keyof typeof ROLE_LABELS;

/** Whether a role, as this device stored it, reads the reports: admins and supervisors (PE1). */
export function mayReadReports(role: string): boolean {
  return isRole(role) && readsReports(role);
}

/** Availability: only online people are given conversations by the inboxes' policies (AS1). */
export const AVAILABILITY_LABELS = { online: 'Online', busy: 'Busy', offline: 'Offline' } as const;
export type Availability = keyof typeof AVAILABILITY_LABELS;

/** The link an invitee opens: the key stays after `#`, so no server log or Referer ever holds it. */
export function invitationLink(origin: string, key: string): string {
  return `${origin}/invite#${key}`;
}

/** The key of an invitation link in this page's address, or null when this is no invitation page. */
export function invitationKeyOf(location: Pick<Location, 'pathname' | 'hash'>): string | null {
  if (location.pathname.replace(/\/+$/, '') !== '/invite') return null;
  return decodeURIComponent(location.hash.replace(/^#/, ''));
}

/** A sentence for a refusal of a People action: the rule's own words and its hint, or what went wrong. */
export function peopleRefusal(error: unknown, action: string): string {
  const data = errorData(error);
  if (data === undefined) return `${action} failed: the server could not be reached. Try again.`;
  if (data.httpStatus === 401) return 'Your session has ended. Sign in again.';
  if (data.httpStatus === 403) return 'Only an admin of this workspace may do this.';
  const message = error instanceof Error ? error.message : String(error);
  const sentence = data.domainCode ? capitalise(message) : `${action} failed: ${message}`;
  return data.hint ? `${sentence}: ${data.hint}.` : `${sentence}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One audit entry in words: "Ada Admin deactivated Ben Agent". */
export function auditSentence(entry: {
  readonly action: string;
  readonly actor: { readonly name: string };
  readonly subject: { readonly name: string };
  readonly details: Readonly<Record<string, unknown>>;
}): string {
  const { actor, subject, details } = entry;
  const role = (value: unknown) =>
    typeof value === 'string' && value in ROLE_LABELS
      ? ROLE_LABELS[value as RoleName].toLowerCase()
      : String(value);
  switch (entry.action) {
    case 'agent.invited':
      return `${actor.name} invited ${subject.name} as ${role(details.role)}`;
    case 'invitation.revoked':
      return `${actor.name} withdrew the invitation of ${subject.name}`;
    case 'invitation.accepted':
      return `${subject.name} accepted an invitation and joined as ${role(details.role)}`;
    case 'agent.role-changed':
      return `${actor.name} changed ${subject.name}’s role from ${role(details.from)} to ${role(details.to)}`;
    case 'agent.deactivated':
      return `${actor.name} deactivated ${subject.name}`;
    case 'agent.reactivated':
      return `${actor.name} reactivated ${subject.name}`;
    default:
      return `${actor.name}: ${entry.action} ${subject.name}`;
  }
}
