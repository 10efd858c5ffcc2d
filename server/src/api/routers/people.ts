import { z } from 'zod';
import { checkPassword } from '../../auth/accounts';
import { hashPassword } from '../../auth/passwords';
import { withTenantPrisma } from '../../auth/tenant-scope';
import { signalAccessChanged, spreadPresence } from '../../people/access';
import { listAudit } from '../../people/audit';
import { changeRole, listPeople, setActive } from '../../people/directory';
import {
  acceptInvitation,
  invite,
  listInvitations,
  openInvitation,
  parseInvitationKey,
  revokeInvitation,
} from '../../people/invitations';
import { displayName, email, id, password, role } from '../schemas';
import { adminProcedure, publicProcedure, router, type AuthedContext } from '../trpc';
import { actorMetadata } from '../views';

/** The secret of an invitation link (`<tenant>.<token>`, after `#` in `/invite#…`). */
const invitationKey = z.string().min(3).max(200);

function inTenant<T>(ctx: AuthedContext, work: Parameters<typeof withTenantPrisma<T>>[2]): Promise<T> {
  return withTenantPrisma(ctx.services.db.prisma, ctx.tenantId, work);
}

/**
 * After a deactivation: the agent's live streams and board sockets ask again now (and end), and
 * every inbox they are a member of has them offline, so assignment never picks them (AS1).
 */
async function afterDeactivation(ctx: AuthedContext, agentId: string): Promise<void> {
  signalAccessChanged(ctx.services.broadcast, ctx.tenantId, agentId);
  await spreadPresence(ctx.services, ctx.tenantId, agentId, 'offline', {
    at: ctx.auth.clock(),
    metadata: actorMetadata(ctx.agent),
  });
}

/**
 * The People screen's procedures (admins, decision 0035), spread into `admin.people`: everyone
 * with their role and state, invitations, role changes, deactivation and the audit trail. Every
 * change is written with an audit entry naming its actor, in the same transaction.
 */
export const peopleAdminProcedures = {
  /** Everyone of the workspace, deactivated people included (their names stay in history). */
  list: adminProcedure.query(({ ctx }) => inTenant(ctx, (tx) => listPeople(tx, ctx.tenantId))),

  /**
   * Invites an email with a role (PE5). The answer carries the link's key once: the PWA shows
   * `/invite#<key>` for the admin to copy; the server keeps only its hash.
   */
  invite: adminProcedure
    .input(z.object({ email, role: role.default('agent') }).strict())
    .mutation(({ ctx, input }) =>
      inTenant(ctx, (tx) => invite(tx, ctx.tenantId, { ...input, actor: ctx.agent, now: ctx.auth.clock() })),
    ),

  /** The workspace's invitations with their status (pending, accepted, revoked, expired). */
  invitations: adminProcedure.query(({ ctx }) =>
    inTenant(ctx, (tx) => listInvitations(tx, ctx.tenantId, ctx.auth.clock())),
  ),

  /** Withdraws a pending invitation; its link stops working. */
  revokeInvitation: adminProcedure
    .input(z.object({ invitationId: id }).strict())
    .mutation(({ ctx, input }) =>
      inTenant(ctx, (tx) =>
        revokeInvitation(tx, ctx.tenantId, { ...input, actor: ctx.agent, now: ctx.auth.clock() }),
      ),
    ),

  /** Gives someone another role; the workspace keeps an active admin (PE2). Applies at their next request. */
  setRole: adminProcedure
    .input(z.object({ agentId: id, role }).strict())
    .mutation(({ ctx, input }) =>
      inTenant(ctx, (tx) =>
        changeRole(tx, ctx.tenantId, { ...input, actor: ctx.agent, at: ctx.auth.clock() }),
      ),
    ),

  /**
   * Deactivates someone (PE2 keeps an admin): their sessions end at once, live streams and board
   * sockets included; they cannot sign in; assignment skips them; history keeps their name.
   */
  deactivate: adminProcedure.input(z.object({ agentId: id }).strict()).mutation(async ({ ctx, input }) => {
    const result = await inTenant(ctx, (tx) =>
      setActive(tx, ctx.tenantId, { ...input, active: false, actor: ctx.agent, at: ctx.auth.clock() }),
    );
    if (result.changed) await afterDeactivation(ctx, result.agentId);
    return result;
  }),

  /** Lets a deactivated person sign in again (offline until they say otherwise). */
  reactivate: adminProcedure
    .input(z.object({ agentId: id }).strict())
    .mutation(({ ctx, input }) =>
      inTenant(ctx, (tx) =>
        setActive(tx, ctx.tenantId, { ...input, active: true, actor: ctx.agent, at: ctx.auth.clock() }),
      ),
    ),

  /** Who changed what, newest first. */
  audit: adminProcedure
    .input(
      z.object({ limit: z.number().int().min(1).max(200).default(50), before: z.number().int().optional() }),
    )
    .query(({ ctx, input }) => inTenant(ctx, (tx) => listAudit(tx, input))),
};

/** An invitation link, opened by someone not yet signed in (decision 0035). */
export const invitationsRouter = router({
  /** The workspace, email and role a link invites to; a used, withdrawn or expired link says which (PE4). */
  open: publicProcedure.input(z.object({ key: invitationKey }).strict()).query(({ ctx, input }) => {
    const { tenantId, tokenHash } = parseInvitationKey(input.key);
    return withTenantPrisma(ctx.services.db.prisma, tenantId, (tx) =>
      openInvitation(tx, tenantId, tokenHash, ctx.auth.clock()),
    );
  }),

  /**
   * Accepts an invitation once with the invitee's name and password, creating their account; they
   * then sign in as anyone does. A second use of the link is refused with `INVITATION_USED`.
   */
  accept: publicProcedure
    .input(z.object({ key: invitationKey, name: displayName, password }).strict())
    .mutation(async ({ ctx, input }) => {
      const { tenantId, tokenHash } = parseInvitationKey(input.key);
      checkPassword(input.password);
      const passwordHash = await hashPassword(input.password);
      const agent = await withTenantPrisma(ctx.services.db.prisma, tenantId, (tx) =>
        acceptInvitation(tx, tenantId, { tokenHash, name: input.name, passwordHash, now: ctx.auth.clock() }),
      );
      return { tenantId, agent: { id: agent.id, name: agent.name, email: agent.email, role: agent.role } };
    }),
});
