import { z } from 'zod';
import { CONTACT_NOTE_MAX } from '@parley/domain';
import { inboxScope, requireConversationInScope } from '../../auth/inbox-scope';
import {
  addContactNote,
  contactConversationIds,
  contactNotes,
  contactStreamOf,
  otherConversations,
} from '../../contacts/profile';
import { CONTACT_CHANGED } from '../../presence/feed';
import { ContactNotFoundError, eraseContact } from '../../crypto/erasure';
import { id } from '../schemas';
import { adminProcedure, authedProcedure, router, TRPCError, type AuthedContext } from '../trpc';

/** Erasing a contact (decision 0022): by their platform id, or by one of their conversations. */
const eraseInput = z
  .object({
    contactId: z.string().min(1).max(200).optional(),
    conversationId: id.optional(),
    reason: z.string().max(500),
  })
  .strict()
  .refine((input) => (input.contactId === undefined) !== (input.conversationId === undefined), {
    message: 'name the contact by contactId or by conversationId, not both',
  });

/**
 * The contact behind a conversation the agent may see (decision 0015): their own stream. Another
 * tenant's conversation, one outside the agent's inboxes and one with no contact are all NOT_FOUND.
 */
async function contactOf(ctx: AuthedContext, conversationId: string) {
  const scope = inboxScope(ctx.services, ctx.tenantId, ctx.agent);
  await requireConversationInScope(scope, conversationId);
  const streamId = await contactStreamOf(ctx.services, ctx.tenantId, conversationId);
  if (streamId === null) throw new TRPCError({ code: 'NOT_FOUND', message: 'there is no such conversation' });
  return { scope, streamId };
}

/** A contact: their notes and other conversations (any agent of their inboxes), erasure (admins). */
export const contactsRouter = router({
  /** The contact panel's server part: the notes on the contact and their other conversations. */
  profile: authedProcedure.input(z.object({ conversationId: id }).strict()).query(async ({ ctx, input }) => {
    const { scope, streamId } = await contactOf(ctx, input.conversationId);
    return {
      notes: await contactNotes(ctx.services, ctx.tenantId, streamId),
      conversations: await otherConversations(ctx.services, ctx.tenantId, input.conversationId, scope),
    };
  }),

  /** Adds a note on the conversation's contact (CT2; the same `noteId` again adds nothing, CT3). */
  addNote: authedProcedure
    .input(z.object({ conversationId: id, noteId: id, text: z.string().max(CONTACT_NOTE_MAX * 2) }).strict())
    .mutation(async ({ ctx, input }) => {
      const { streamId } = await contactOf(ctx, input.conversationId);
      const result = await addContactNote(ctx.services, ctx.tenantId, streamId, {
        noteId: input.noteId,
        agentId: ctx.agent.id,
        text: input.text,
        at: ctx.auth.clock(),
      });
      if (result.added) {
        // Open contact panels of this contact fetch the profile again (each agent's stream keeps
        // only the conversations that agent may see; ids only).
        const conversationIds = await contactConversationIds(
          ctx.services,
          ctx.tenantId,
          input.conversationId,
        );
        ctx.services.broadcast.signal(
          { kind: 'tenant', tenantId: ctx.tenantId },
          { type: CONTACT_CHANGED, conversationIds },
        );
      }
      return result;
    }),

  /**
   * Destroys the contact's keys and records `ContactErased` with the reason: every conversation of
   * the contact keeps its events (types, ids, times) and shows "[erased]" for the personal data.
   */
  erase: adminProcedure.input(eraseInput).mutation(async ({ ctx, input }) => {
    try {
      const result = await eraseContact(ctx.services, {
        tenantId: ctx.tenantId,
        contact:
          input.contactId !== undefined
            ? { contactId: input.contactId }
            : { conversationId: input.conversationId! },
        reason: input.reason,
        erasedBy: ctx.agent.id,
        at: Date.now(),
      });
      ctx.services.logger.info(
        {
          tenantId: ctx.tenantId,
          erasedBy: ctx.agent.id,
          conversations: result.conversations.length,
          filesDeleted: result.filesDeleted,
        },
        'contact erased',
      );
      return { conversations: result.conversations, keysDestroyed: result.keysDestroyed };
    } catch (error) {
      if (error instanceof ContactNotFoundError)
        throw new TRPCError({ code: 'NOT_FOUND', message: error.message });
      throw error;
    }
  }),
});
