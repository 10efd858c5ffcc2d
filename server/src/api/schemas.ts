import { isStorableText, type ClientCommand } from '@parley/domain';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords';

/**
 * An id the client names: a conversation, inbox, workflow, agent, team, note or message. The
 * characters are those a stream id allows after its category, so any id can name a stream.
 */
export const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:~-]{0,99}$/, 'ids are 1-100 of A-Z a-z 0-9 . _ : ~ -');

/** A client-chosen key that makes a retried command change nothing the second time. */
export const commandId = id.optional();

/** Epoch milliseconds. */
export const epochMs = z.number().int().min(0).max(8_640_000_000_000_000);

/** A tenant's slug as typed at sign-in (checked again, quietly, by the sign-in service). */
export const tenantSlug = z.string().trim().min(1).max(48);

/** An email address as typed; compared trimmed and lowercased. */
export const email = z
  .string()
  .trim()
  .min(3)
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'an email address');

/** A password as typed: never trimmed; the length cap keeps hashing cheap to refuse. */
export const password = z.string().min(1).max(MAX_PASSWORD_LENGTH);

/** A display name. */
export const displayName = z.string().trim().min(1).max(120);

/** The platforms Parley talks to. */
export const platform = z.enum(['whatsapp', 'instagram', 'messenger', 'telegram', 'webchat']);

/** An agent's presence. */
export const presence = z.enum(['online', 'busy', 'offline']);

/** How an inbox picks an agent. */
export const assignmentPolicy = z.enum(['round-robin', 'weighted', 'least-busy']);

/** An account's role. */
export const role = z.enum(['admin', 'supervisor', 'agent']);

/** A conversation's status as the list filters it. */
export const conversationStatus = z.enum(['open', 'pending', 'snoozed', 'resolved']);

// The platform rules (packages/domain) refuse text over each platform's own limit with a rule id;
// these caps only stop absurd payloads before they reach them.
const text = agentText(40_000);

/**
 * Text an agent types, up to `max` UTF-16 units. Events are stored as `jsonb`, which refuses a NUL
 * and a lone UTF-16 surrogate (TX1), so such text is refused here with a clear 400, never a 500.
 */
export function agentText(max: number) {
  return z.string().max(max).refine(isStorableText, {
    message: 'text may not contain a NUL character (U+0000) or a lone UTF-16 surrogate',
  });
}

/** A conversation label as an agent types it; the domain trims it and refuses a blank one (CV8). */
export const label = agentText(100);

/**
 * A link Parley hands to platforms and shows to agents (0018): https only, so no `javascript:`,
 * `data:` or `file:` and nothing in clear text; plain http only to this machine (local simulators).
 */
export const httpsUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine(
    (value) => {
      const url = new URL(value);
      return url.protocol === 'https:' || /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
    },
    { message: 'must be an https:// URL (http:// only for localhost)' },
  );

/** A file uploaded to Parley, by the SHA-256 of its bytes (`/api/attachments`, decision 0027). */
const storedFile = z.string().regex(/^attachment:[0-9a-f]{64}$/, 'must be attachment:<sha256 hex>');

const media = z.object({
  kind: z.enum(['image', 'video', 'audio', 'document', 'sticker']),
  url: z.union([storedFile, httpsUrl]),
  mime: z.string().min(1).max(255),
  size: z.number().int().min(0),
});

/** What an agent sends: text, media with an optional caption, or an approved template. */
export const replyContent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text }),
  z.object({ type: z.literal('media'), media, caption: text.nullable() }),
  z.object({
    type: z.literal('template'),
    name: agentText(512).min(1),
    language: z.string().min(2).max(16),
    params: z.array(agentText(1024)).max(32),
  }),
]);

/**
 * A device's command to one conversation (issue #14): mirrors the domain's `ClientCommand` exactly,
 * with the limits of the single-command procedures (`note`, `label`, `reply`).
 */
export const clientCommand = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('QueueReply'),
    clientMessageId: id,
    content: replyContent,
    tag: z.literal('HUMAN_AGENT').nullable(),
  }),
  z.object({
    type: z.literal('AddNote'),
    noteId: id,
    text: agentText(10_000),
    mentions: z.array(id).max(50).readonly(),
  }),
  z.object({ type: z.literal('AddLabel'), label }),
  z.object({ type: z.literal('RemoveLabel'), label }),
  z.object({ type: z.literal('AssignConversation'), agentId: id }),
  z.object({ type: z.literal('UnassignConversation') }),
  z.object({ type: z.literal('SetStatus'), status: z.enum(['open', 'pending', 'resolved']) }),
  z.object({ type: z.literal('SnoozeConversation'), until: epochMs }),
  z.object({ type: z.literal('SetPriority'), priority: z.enum(['none', 'low', 'medium', 'high', 'urgent']) }),
  z.object({ type: z.literal('MarkConversationRead'), upTo: epochMs }),
]) satisfies z.ZodType<ClientCommand>;

const entryAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('assign') }),
  z.object({ type: z.literal('add-label'), label }),
  z.object({ type: z.literal('set-status'), status: z.enum(['open', 'pending', 'resolved']) }),
]);

/** A workflow (board) definition; the domain checks its rules (WF1) and answers WORKFLOW_INVALID. */
export const workflowDefinition = z.object({
  workflowId: id,
  name: z.string().max(120),
  stages: z
    .array(
      z.object({
        id,
        name: z.string().max(120),
        wipLimit: z.number().int().nullable(),
        entryActions: z.array(entryAction).max(10),
      }),
    )
    .max(50),
  transitions: z.array(z.object({ from: id, to: id })).max(500),
});
