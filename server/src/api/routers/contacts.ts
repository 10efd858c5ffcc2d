import { z } from 'zod';
import { ContactNotFoundError, eraseContact } from '../../crypto/erasure';
import { id } from '../schemas';
import { adminProcedure, router, TRPCError } from '../trpc';

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

/** A contact's personal data: erasure (crypto-shredding) by an admin. */
export const contactsRouter = router({
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
        { tenantId: ctx.tenantId, erasedBy: ctx.agent.id, conversations: result.conversations.length },
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
