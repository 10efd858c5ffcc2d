import { describe, expect, it } from 'vitest';
import { isDomainError } from '../shared/errors';
import { boardPermission } from '../board/permission';
import {
  changesSettings,
  INVITATION_TTL_MS,
  invitationStatus,
  isRole,
  readsReports,
  requireAcceptable,
  requireActive,
  requireAnAdminRemains,
  requireInvitable,
  ROLES,
  seesAllInboxes,
  type PersonStanding,
} from './rules';

const codeOf = (run: () => void): string | null => {
  try {
    run();
    return null;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    expect(error.details.rule).toMatch(/^PE\d$/);
    return error.code;
  }
};

describe('roles', () => {
  it('[PE1] admins and supervisors see every inbox and the reports; only admins change settings', () => {
    expect(ROLES.filter(seesAllInboxes)).toEqual(['admin', 'supervisor']);
    expect(ROLES.filter(readsReports)).toEqual(['admin', 'supervisor']);
    expect(ROLES.filter(changesSettings)).toEqual(['admin']);
    expect(['admin', 'supervisor', 'agent', 'owner', ''].filter(isRole)).toEqual(ROLES);
  });

  it('[BA4] a supervisor edits their own inboxes’ boards and views every other one', () => {
    const supervisor = { role: 'supervisor', agentId: 'sue' } as const;
    expect(boardPermission({ ...supervisor, inboxMembers: ['sue'] })).toBe('edit');
    expect(boardPermission({ ...supervisor, inboxMembers: ['ann'] })).toBe('view');
    expect(boardPermission({ ...supervisor, inboxMembers: null })).toBe('view');
    expect(boardPermission({ role: 'agent', agentId: 'bob', inboxMembers: ['ann'] })).toBe('none');
  });
});

describe('the last admin', () => {
  const ada: PersonStanding = { id: 'ada', role: 'admin', active: true };
  const ana: PersonStanding = { id: 'ana', role: 'agent', active: true };
  const alf: PersonStanding = { id: 'alf', role: 'admin', active: false };

  it('[PE2] may not be demoted or deactivated while no other active admin exists', () => {
    expect(codeOf(() => requireAnAdminRemains([ada, ana, alf], { agentId: 'ada', role: 'supervisor' }))).toBe(
      'LAST_ADMIN',
    );
    expect(codeOf(() => requireAnAdminRemains([ada, ana, alf], { agentId: 'ada', active: false }))).toBe(
      'LAST_ADMIN',
    );
  });

  it('[PE2] may be demoted once another active admin exists, and anyone else changes freely', () => {
    const ben: PersonStanding = { id: 'ben', role: 'admin', active: true };
    expect(codeOf(() => requireAnAdminRemains([ada, ben], { agentId: 'ada', role: 'agent' }))).toBeNull();
    expect(codeOf(() => requireAnAdminRemains([ada, ana], { agentId: 'ana', active: false }))).toBeNull();
    expect(codeOf(() => requireAnAdminRemains([ada, alf], { agentId: 'alf', active: true }))).toBeNull();
  });
});

describe('a deactivated person', () => {
  it('[PE6] is given no conversation by hand; an active one is', () => {
    expect(codeOf(() => requireActive({ name: 'Ben', active: false }))).toBe('AGENT_DEACTIVATED');
    expect(codeOf(() => requireActive({ name: 'Ben', active: true }))).toBeNull();
  });
});

describe('an invitation', () => {
  const sent = { expiresAt: 1_000 + INVITATION_TTL_MS, acceptedAt: null, revokedAt: null };

  it('[PE3] is pending until it expires, and expired from its expiry on', () => {
    expect(INVITATION_TTL_MS).toBe(7 * 86_400_000);
    expect(invitationStatus(sent, sent.expiresAt - 1)).toBe('pending');
    expect(invitationStatus(sent, sent.expiresAt)).toBe('expired');
    expect(invitationStatus({ ...sent, acceptedAt: 5 }, sent.expiresAt + 1)).toBe('accepted');
    expect(invitationStatus({ ...sent, revokedAt: 5 }, 10)).toBe('revoked');
  });

  it('[PE4] is accepted only while pending; a used, withdrawn or expired one says which', () => {
    expect(codeOf(() => requireAcceptable(sent, 2_000))).toBeNull();
    expect(codeOf(() => requireAcceptable({ ...sent, acceptedAt: 1_500 }, 2_000))).toBe('INVITATION_USED');
    expect(codeOf(() => requireAcceptable({ ...sent, revokedAt: 1_500 }, 2_000))).toBe('INVITATION_REVOKED');
    expect(codeOf(() => requireAcceptable(sent, sent.expiresAt))).toBe('INVITATION_EXPIRED');
  });

  it('[PE5] is refused for a member’s email or one already invited, not for an expired invitation', () => {
    const taken = {
      agentEmails: ['ana@x.test'],
      invitations: [
        { email: 'new@x.test', ...sent },
        { email: 'old@x.test', ...sent, expiresAt: 500 },
        { email: 'gone@x.test', ...sent, revokedAt: 900 },
      ],
    };
    expect(codeOf(() => requireInvitable('ana@x.test', taken, 1_000))).toBe('AGENT_ALREADY_EXISTS');
    expect(codeOf(() => requireInvitable('new@x.test', taken, 1_000))).toBe('INVITATION_PENDING');
    expect(codeOf(() => requireInvitable('old@x.test', taken, 1_000))).toBeNull();
    expect(codeOf(() => requireInvitable('gone@x.test', taken, 1_000))).toBeNull();
  });
});
