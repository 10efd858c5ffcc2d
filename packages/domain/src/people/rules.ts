import { refuse } from '../shared/errors';
import type { EpochMs } from '../shared/ids';

/**
 * What an account may do (PE1): an admin manages the workspace, a supervisor oversees it (reports,
 * every inbox) without changing its settings, an agent answers the conversations of their inboxes.
 */
export type Role = 'admin' | 'supervisor' | 'agent';
/** Every role, most powerful first. */
export const ROLES: readonly Role[] = ['admin', 'supervisor', 'agent'];

/** Whether a string (typed, stored, sent) names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Refusals of the people rules, mapped to API errors. */
export const PeopleErrorCode = {
  LAST_ADMIN: 'LAST_ADMIN',
  AGENT_DEACTIVATED: 'AGENT_DEACTIVATED',
  AGENT_ALREADY_EXISTS: 'AGENT_ALREADY_EXISTS',
  INVITATION_PENDING: 'INVITATION_PENDING',
  INVITATION_NOT_FOUND: 'INVITATION_NOT_FOUND',
  INVITATION_EXPIRED: 'INVITATION_EXPIRED',
  INVITATION_USED: 'INVITATION_USED',
  INVITATION_REVOKED: 'INVITATION_REVOKED',
} as const;
/** One of `PeopleErrorCode`. */
export type PeopleErrorCode = (typeof PeopleErrorCode)[keyof typeof PeopleErrorCode];

/** PE1: admins and supervisors see every inbox of the workspace; agents only their own. */
export function seesAllInboxes(role: Role): boolean {
  return role === 'admin' || role === 'supervisor';
}

/** PE1: admins and supervisors read the reports. */
export function readsReports(role: Role): boolean {
  return role === 'admin' || role === 'supervisor';
}

/** PE1: only admins change the workspace's settings (people, inboxes, channels, retention…). */
export function changesSettings(role: Role): boolean {
  return role === 'admin';
}

/** A person as the last-admin rule sees them. */
export interface PersonStanding {
  readonly id: string;
  readonly role: Role;
  readonly active: boolean;
}

/**
 * PE2: a role change or a deactivation that would leave the workspace without an active admin is
 * refused with `LAST_ADMIN`, so someone can always manage it.
 */
export function requireAnAdminRemains(
  people: readonly PersonStanding[],
  change: { readonly agentId: string; readonly role?: Role; readonly active?: boolean },
): void {
  const after = people.map((person) =>
    person.id === change.agentId
      ? { ...person, role: change.role ?? person.role, active: change.active ?? person.active }
      : person,
  );
  if (after.some((person) => person.role === 'admin' && person.active)) return;
  refuse(
    PeopleErrorCode.LAST_ADMIN,
    'this would leave the workspace without an active admin',
    'PE2',
    'make someone else an admin first',
  );
}

/** PE6: nobody assigns a conversation to a deactivated person (`AGENT_DEACTIVATED`); history keeps their name. */
export function requireActive(person: { readonly name: string; readonly active: boolean }): void {
  if (person.active) return;
  refuse(
    PeopleErrorCode.AGENT_DEACTIVATED,
    `${person.name} is deactivated`,
    'PE6',
    'assign someone else, or ask an admin to reactivate them',
  );
}

/** How long an invitation link works: 7 days. */
export const INVITATION_TTL_MS = 7 * 86_400_000;

/** An invitation's moments, as the rules see them. */
export interface InvitationTimes {
  readonly expiresAt: EpochMs;
  readonly acceptedAt: EpochMs | null;
  readonly revokedAt: EpochMs | null;
}

/** Where an invitation stands. */
export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

/**
 * PE3: an invitation is accepted once used, revoked once withdrawn, expired from its expiry on
 * (not a millisecond before), and pending otherwise.
 */
export function invitationStatus(invitation: InvitationTimes, now: EpochMs): InvitationStatus {
  if (invitation.acceptedAt !== null) return 'accepted';
  if (invitation.revokedAt !== null) return 'revoked';
  return now >= invitation.expiresAt ? 'expired' : 'pending';
}

/** PE4: only a pending invitation can be accepted; each other status has its own refusal. */
export function requireAcceptable(invitation: InvitationTimes, now: EpochMs): void {
  const status = invitationStatus(invitation, now);
  switch (status) {
    case 'pending':
      return;
    case 'accepted':
      return refuse(
        PeopleErrorCode.INVITATION_USED,
        'this invitation link has already been used',
        'PE4',
        'sign in with the password you set, or ask an admin for a new invitation',
      );
    case 'revoked':
      return refuse(
        PeopleErrorCode.INVITATION_REVOKED,
        'this invitation was withdrawn',
        'PE4',
        'ask an admin for a new invitation',
      );
    case 'expired':
      return refuse(
        PeopleErrorCode.INVITATION_EXPIRED,
        'this invitation link has expired',
        'PE4',
        'ask an admin for a new invitation',
      );
    default:
      return status satisfies never;
  }
}

/**
 * PE5: an email that already belongs to someone of the workspace (active or not) cannot be invited
 * (`AGENT_ALREADY_EXISTS`), nor one with a pending invitation (`INVITATION_PENDING`); an expired or
 * withdrawn invitation does not stand in the way.
 */
export function requireInvitable(
  email: string,
  taken: {
    readonly agentEmails: readonly string[];
    readonly invitations: readonly (InvitationTimes & { readonly email: string })[];
  },
  now: EpochMs,
): void {
  if (taken.agentEmails.includes(email)) {
    refuse(
      PeopleErrorCode.AGENT_ALREADY_EXISTS,
      `someone with ${email} is already a member of this workspace`,
      'PE5',
      'reactivate or change the role of the existing person instead',
    );
  }
  const pending = taken.invitations.some(
    (invitation) => invitation.email === email && invitationStatus(invitation, now) === 'pending',
  );
  if (pending) {
    refuse(
      PeopleErrorCode.INVITATION_PENDING,
      `an invitation to ${email} is already waiting`,
      'PE5',
      'copy its link again, or withdraw it and invite again',
    );
  }
}
