import { createHash } from 'node:crypto';
import {
  DomainError,
  describeRefusal,
  isDomainError,
  seesAllInboxes,
  toConversationCommand,
  ConversationErrorCode,
  type ClientCommand,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type InboxCommand,
  type JsonObject,
  type MessageTag,
  type MessageTemplate,
  type RecordedEvent,
  type ReplyContent,
  type TenantId,
} from '@parley/domain';
import type { JointResult } from '../actors/runtime';
import { recordFileOwners } from '../attachments/owners';
import {
  checkReplyFile,
  filesNamedBy,
  loadStoredFiles,
  replyFileErased,
  type StoredFiles,
} from '../attachments/reply-check';
import { AccountErrorCode, listAgents } from '../auth/accounts';
import { withTenant } from '../auth/tenant-scope';
import { writeOutboxRows } from '../channels';
import type { Database } from '../db/database';
import type { SqlQueryable } from '../db/driver';
import { inForeground } from '../db/priority';
import type { Grains } from '../grains';
import type { Logger } from '../logger';
import { tenantCursors, type TenantCursors } from '../sync/cursor';

/*
 * The one home of client commands on the server (issue #14, docs/sync-protocol.md "Commands"):
 * every numbered command of a device (a reply, a note, a label, an assignment, a status, a snooze,
 * a priority, a read mark) goes through the same per-client sequence ledger, is decided by the
 * domain's conversation decider (`toConversationCommand`, the function the device runs too), and
 * commits with its ledger entry (and, for a reply, its outbox row) in one transaction.
 * `conversations.reply` and `replyBatch` are thin wrappers over the same path (`sendReply*`).
 */

/** Who sends a client's commands, and when, as the command path records them. */
export interface CommandClient {
  readonly tenantId: TenantId;
  readonly agentId: string;
  /** One installation of the PWA; each numbers its commands 1, 2, 3... (one ledger for all kinds). */
  readonly clientId: string;
  readonly now: number;
  /** Stored with the commands' events (who sent them). */
  readonly metadata: JsonObject;
  /**
   * Whether the sender works in the conversation's inbox (decision 0015); one they do not is
   * answered like a conversation that does not exist. Unset: every conversation of the tenant.
   */
  readonly inScope?: (conversationId: string) => Promise<boolean>;
}

/** One numbered command of a client. */
export interface NumberedCommand {
  readonly sequence: number;
  readonly conversationId: string;
  readonly command: ClientCommand;
}

/** An event a command recorded: its type and place (the version in its stream, the sync cursor). */
export interface RecordedSummary {
  readonly type: string;
  readonly version: number;
  readonly cursor: string;
}

/** The command was applied; `events` is empty when it changed nothing (a resend, a value already set). */
export interface CommandAccepted {
  readonly status: 'accepted';
  readonly sequence: number;
  readonly conversationId: string;
  /** The conversation's version after the command. */
  readonly version: number;
  readonly events: readonly RecordedSummary[];
}

/** The rules refused the command for good; resending cannot change that. */
export interface CommandRefused {
  readonly status: 'refused';
  readonly sequence: number;
  readonly conversationId: string;
  readonly code: string;
  readonly rule: string | null;
  /** A sentence for the agent (`describeRefusal`). */
  readonly message: string;
  /** What the agent can do instead, or null. */
  readonly nextStep: string | null;
  /** The rule's own words, with the specifics (limits, names). */
  readonly detail: string;
  /** The rule's own hint, or null. */
  readonly hint: string | null;
}

/** The answer stored for an applied sequence number. */
export type CommandOutcome = CommandAccepted | CommandRefused;

/** The sequence skips ahead: resend from `expected`, in order. Nothing was applied. */
export interface CommandOutOfOrder {
  readonly status: 'out-of-order';
  readonly sequence: number;
  readonly expected: number;
}

/** What a numbered command gets: the outcome (again, with `duplicate`, for a resend) or a gap. */
export type CommandAnswer = (CommandOutcome & { readonly duplicate: boolean }) | CommandOutOfOrder;

/** A batch's answers, one per command in order, up to the first out-of-order answer or error. */
export interface CommandBatchAnswer {
  readonly answers: readonly CommandAnswer[];
}

/** The most commands one batch may carry (docs/decisions/0012-batched-reply-flush.md). */
export const MAX_COMMAND_BATCH = 100;

/** Refusals of the command path itself, beside the rules' own. */
export const ReplyErrorCode = {
  /** A sequence number already applied to another command. */
  SEQUENCE_REUSED: 'SEQUENCE_REUSED',
} as const;

/** What the command path needs from the process. */
export interface CommandServices {
  readonly db: Database;
  readonly grains: Grains;
  /** Hears when a batch's run falls back to one command at a time, or an inbox could not be told. */
  readonly logger?: Pick<Logger, 'debug' | 'warn'>;
}

/** Another request applied this sequence number first; the stored answer is read instead. */
class SequenceMovedError extends Error {
  override readonly name = 'SequenceMovedError';
}

/** What the batch reads once: the templates, the tenant's agents, each conversation's inbox members. */
interface BatchContext {
  readonly templates: readonly MessageTemplate[];
  /** Agent ids of this tenant (mentions must name one). */
  readonly agents: ReadonlySet<string>;
  /** Conversation id -> the agents who may be assigned it (rule CV16). */
  readonly members: Map<string, readonly string[]>;
  readonly cursors: TenantCursors;
  /** The stored files the batch's media replies name, as the server read them. */
  readonly files: StoredFiles;
}

/**
 * Applies a batch of one client's numbered commands, in order, exactly once each:
 * - the run that follows the client's last applied number without a gap, to conversations that
 *   exist and are in scope, is decided and committed as ONE unit (`askTogether`, decision 0014):
 *   every event, outbox row, the number moved over the run and every stored answer, or nothing;
 * - what is left (or the whole batch, if the unit could not commit) goes one command at a time,
 *   each in its own transaction, with the same answers;
 * - a number already applied returns its stored answer (`duplicate: true`); one that skips ahead
 *   is answered out-of-order and ends the answers. An error at the first command is thrown; a later
 *   one ends the batch early (the client resends from there) and is passed to `onStop`.
 */
export function sendCommandBatch(
  services: CommandServices,
  client: CommandClient,
  commands: readonly NumberedCommand[],
  onStop: (error: unknown, command: NumberedCommand) => void = () => undefined,
): Promise<CommandBatchAnswer> {
  // The device waits for this answer before it sends its next batch: its database steps go before
  // background work (projections, dispatcher) waiting for PGlite's one connection.
  return inForeground(() => applyCommandBatch(services, client, commands, onStop));
}

async function applyCommandBatch(
  services: CommandServices,
  client: CommandClient,
  commands: readonly NumberedCommand[],
  onStop: (error: unknown, command: NumberedCommand) => void,
): Promise<CommandBatchAnswer> {
  const { db } = services;
  const { tenantId } = client;
  const needsAgents = commands.some(
    ({ command }) =>
      (command.type === 'AddNote' && command.mentions.length > 0) || command.type === 'AssignConversation',
  );
  const { templates, last, agents, files } = await withTenant(db.sql, tenantId, async (tx) => ({
    templates: await loadTemplates(tx),
    last: await lastSequence(tx, client),
    agents: needsAgents ? await listAgents(tx) : [],
    files: await loadStoredFiles(tx, filesNamedBy(commands)),
  }));
  const context: BatchContext = {
    files,
    templates,
    // A deactivated agent is nobody to assign or mention (decision 0035); their name stays in history.
    agents: new Set(agents.filter((agent) => agent.active).map((agent) => agent.id)),
    members: new Map(),
    cursors: await tenantCursors(db, tenantId),
  };
  const admins = agents.filter((agent) => seesAllInboxes(agent.role)).map((agent) => agent.id);
  const run = await runFrom(services, client, commands, last, context, admins);
  const tried = run.length >= 2; // one command alone is as cheap one at a time
  const answers: CommandAnswer[] = tried ? await sendRunTogether(services, client, run, context) : [];
  for (const numbered of commands.slice(answers.length)) {
    const previous = answers.at(-1);
    // After a command this batch applied (not a duplicate), the number stands at that command's.
    // Before the first, it is the number read above, unless a unit was tried (it may have moved it).
    const known = previous
      ? previous.status !== 'out-of-order' && !previous.duplicate
        ? previous.sequence
        : undefined
      : tried
        ? undefined
        : last;
    let answer: CommandAnswer;
    try {
      if (!context.members.has(numbered.conversationId) && numbered.command.type === 'AssignConversation') {
        await learnMembers(services, client, numbered.conversationId, context, admins);
      }
      answer = await sendCommand(services, client, numbered, context, known);
    } catch (error) {
      if (answers.length === 0) throw error;
      onStop(error, numbered);
      break;
    }
    answers.push(answer);
    if (answer.status === 'out-of-order') break;
  }
  await tellInboxes(services, client, commands, answers);
  return { answers };
}

/**
 * Applies one numbered command exactly once and in order: the next number decides it, and the
 * client's last applied number moves in the same transaction as its events (the store's
 * `withinTransaction`); a refusal by the rules moves it too, in a transaction of its own.
 */
async function sendCommand(
  services: CommandServices,
  client: CommandClient,
  numbered: NumberedCommand,
  context: BatchContext,
  knownLast: number | undefined,
): Promise<CommandAnswer> {
  const { db, grains } = services;
  const { tenantId } = client;
  const key = commandKey(numbered);
  // Two attempts are enough: a lost race means the winner stored its answer, found on the next pass.
  for (let attempt = 1; ; attempt++) {
    // A guess is as good as a read: `advance` checks the number in the command's own transaction.
    const last =
      attempt === 1 && knownLast !== undefined
        ? knownLast
        : await withTenant(db.sql, tenantId, (tx) => lastSequence(tx, client));
    if (numbered.sequence <= last) return storedAnswer(db, client, numbered.sequence, key);
    if (numbered.sequence > last + 1) {
      return { status: 'out-of-order', sequence: numbered.sequence, expected: last + 1 };
    }
    const conversation = grains.conversation(tenantId, numbered.conversationId);
    await requireExisting(services, client, numbered.conversationId);
    let outcome: CommandOutcome;
    try {
      precheck(numbered.command, context);
      let committed: CommandOutcome | undefined;
      const result = await conversation.ask(domainCommand(client, numbered, context), {
        metadata: commandMetadata(client, numbered),
        withinTransaction: async (tx, appended) => {
          const accepted = acceptedOf(numbered, appended.events, appended.events.at(-1)!.version, context);
          // Throwing aborts the append: the events, an outbox row and the number commit together.
          if (!(await advanceRun(tx, client, [{ key, outcome: accepted }]))) throw new SequenceMovedError();
          await writeOutboxRows(tx, appended);
          await recordFileOwners(tx, appended, replyFileErased);
          committed = accepted;
        },
      });
      if (committed && result.events.length > 0) return { ...committed, duplicate: false };
      // The rules changed nothing (a resend, a value already set): the number moves on its own.
      outcome = acceptedOf(numbered, [], result.version, context);
    } catch (error) {
      if (error instanceof SequenceMovedError && attempt < 3) continue;
      if (!isDomainError(error)) throw error;
      outcome = refusal(numbered, error);
    }
    const applied = await withTenant(db.sql, tenantId, (tx) => advanceRun(tx, client, [{ key, outcome }]));
    if (applied) return { ...outcome, duplicate: false };
    if (attempt >= 3) throw new Error('the command sequence kept moving under this request; retry it');
  }
}

/** A conversation that does not exist, or not for this agent: not a refusal but a wrong id. */
async function requireExisting(services: CommandServices, client: CommandClient, conversationId: string) {
  if (!(await exists(services, client, conversationId))) {
    throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
  }
}

async function exists(services: CommandServices, client: CommandClient, conversationId: string) {
  const { state } = await services.grains.conversation(client.tenantId, conversationId).read();
  return state !== null && (!client.inScope || (await client.inScope(conversationId)));
}

/**
 * The commands a batch starts with that follow the client's last applied number without a gap, to
 * conversations that exist (for this agent). Anything else ends the run: it is `sendCommand`'s.
 */
async function runFrom(
  services: CommandServices,
  client: CommandClient,
  commands: readonly NumberedCommand[],
  last: number,
  context: BatchContext,
  admins: readonly string[],
): Promise<NumberedCommand[]> {
  const run: NumberedCommand[] = [];
  const known = new Map<string, boolean>();
  for (const numbered of commands) {
    if (numbered.sequence !== last + 1 + run.length) break;
    let found = known.get(numbered.conversationId);
    if (found === undefined) {
      found = await exists(services, client, numbered.conversationId);
      known.set(numbered.conversationId, found);
    }
    if (!found) break;
    if (numbered.command.type === 'AssignConversation' && !context.members.has(numbered.conversationId)) {
      await learnMembers(services, client, numbered.conversationId, context, admins);
    }
    run.push(numbered);
  }
  return run;
}

/**
 * Who may be assigned the conversation (rule CV16): the members of its inbox and the tenant's
 * admins (who work in every inbox, decision 0015); every agent of the tenant when the inbox has no
 * aggregate (it keeps no members).
 */
async function learnMembers(
  services: CommandServices,
  client: CommandClient,
  conversationId: string,
  context: BatchContext,
  admins: readonly string[],
): Promise<void> {
  const { state } = await services.grains.conversation(client.tenantId, conversationId).read();
  if (!state) return;
  const inbox = await services.grains.inbox(client.tenantId, state.inboxId).read();
  const members = inbox.state
    ? [...inbox.state.members.map((member) => member.agentId), ...admins]
    : [...context.agents];
  context.members.set(
    conversationId,
    members.filter((id) => context.agents.has(id)),
  );
}

/** Refusals that need what the domain does not know: a mention must name an agent of the tenant. */
function precheck(command: ClientCommand, context: BatchContext): void {
  checkReplyFile(command, context.files);
  if (command.type !== 'AddNote') return;
  const unknown = command.mentions.find((mention) => !context.agents.has(mention));
  if (unknown !== undefined) {
    throw new DomainError(AccountErrorCode.AGENT_NOT_FOUND, `there is no agent ${unknown} to mention`);
  }
}

/**
 * The metadata of every event a client command appends: who sent it, and which command of which
 * device it was (`command: { clientId, sequence }`), so a device whose answer was lost still
 * recognises its own command when sync brings the events (docs/sync-protocol.md, "Commands").
 */
export function commandMetadata(
  client: Pick<CommandClient, 'clientId' | 'metadata'>,
  numbered: Pick<NumberedCommand, 'sequence'>,
): JsonObject {
  return { ...client.metadata, command: { clientId: client.clientId, sequence: numbered.sequence } };
}

function domainCommand(client: CommandClient, numbered: NumberedCommand, context: BatchContext) {
  const members = context.members.get(numbered.conversationId);
  return toConversationCommand(numbered.command, {
    agentId: client.agentId,
    now: client.now,
    templates: context.templates,
    ...(members && { members }),
  });
}

function acceptedOf(
  numbered: NumberedCommand,
  events: readonly RecordedEvent[],
  version: number,
  context: BatchContext,
): CommandAccepted {
  return {
    status: 'accepted',
    sequence: numbered.sequence,
    conversationId: numbered.conversationId,
    version,
    events: events.map((event) => ({
      type: event.type,
      version: event.version,
      cursor: context.cursors.seal(event.checkpoint),
    })),
  };
}

/**
 * The fast path of a batch: its run (`runFrom`) applied as ONE unit. Every conversation decides
 * its commands in order in its own turn (`conversationsTogether`), and their events, their outbox
 * rows, the client's number moved over the whole run and each command's stored answer commit in
 * one transaction, or nothing does. The answers are the ones `sendCommand` would give one by one.
 * Returns them, or none when the unit could not be applied: `sendCommand` then takes every command.
 */
async function sendRunTogether(
  services: CommandServices,
  client: CommandClient,
  run: readonly NumberedCommand[],
  context: BatchContext,
): Promise<CommandAnswer[]> {
  const { db, grains } = services;
  const { tenantId } = client;
  // A command refused before deciding (an unknown mention) takes part only with its answer.
  const refusedEarly = new Map<NumberedCommand, CommandRefused>();
  const byConversation = new Map<string, NumberedCommand[]>();
  for (const numbered of run) {
    try {
      precheck(numbered.command, context);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      refusedEarly.set(numbered, refusal(numbered, error));
      continue;
    }
    const commands = byConversation.get(numbered.conversationId) ?? [];
    commands.push(numbered);
    byConversation.set(numbered.conversationId, commands);
  }
  const outcomesOf = (results: readonly JointResult<ConversationState, ConversationEvent>[]) => {
    const outcomes = new Map<NumberedCommand, CommandOutcome>(refusedEarly);
    for (const result of results) {
      let version = result.baseVersion;
      byConversation.get(result.id)!.forEach((numbered, i) => {
        const outcome = result.outcomes[i]!;
        if (!outcome.ok) {
          // Only the rules' refusals are answers; anything else stops the unit.
          if (!isDomainError(outcome.error)) throw outcome.error;
          outcomes.set(numbered, refusal(numbered, outcome.error));
          return;
        }
        const lastEvent = outcome.events.at(-1);
        if (lastEvent) version = lastEvent.version;
        outcomes.set(numbered, acceptedOf(numbered, outcome.events, version, context));
      });
    }
    return run.map((numbered) => ({ key: commandKey(numbered), outcome: outcomes.get(numbered)! }));
  };

  let answered: { key: string; outcome: CommandOutcome }[] | undefined;
  try {
    const results = await grains.conversationsTogether(
      tenantId,
      [...byConversation].map(([id, commands]) => ({
        id,
        commands: commands.map((numbered): ConversationCommand => domainCommand(client, numbered, context)),
        metadata: commands.map((numbered) => commandMetadata(client, numbered)),
      })),
      {
        metadata: client.metadata,
        withinTransaction: async (tx, written) => {
          const outcomes = outcomesOf(written);
          // Throwing aborts the unit: the events, their outbox rows and the numbers commit together.
          if (!(await advanceRun(tx, client, outcomes))) throw new SequenceMovedError();
          const appended = written.map(({ streamId, outcomes: done }) => ({
            tenantId,
            streamId,
            events: done.flatMap((outcome) => (outcome.ok ? outcome.events : [])),
          }));
          await writeOutboxRows(tx, appended);
          await recordFileOwners(tx, appended, replyFileErased);
          answered = outcomes;
        },
      },
    );
    if (!answered) {
      // Nothing to append (every command refused, or changing nothing): the numbers move on their own.
      const outcomes = outcomesOf(results);
      if (!(await withTenant(db.sql, tenantId, (tx) => advanceRun(tx, client, outcomes)))) return [];
      answered = outcomes;
    }
  } catch (error) {
    // Nothing of the unit committed (or it did and the stored answers say so): one by one instead.
    const raced = error instanceof SequenceMovedError;
    services.logger?.[raced ? 'debug' : 'warn'](
      { err: error, clientId: client.clientId, commands: run.length },
      'a batch of commands is applied one by one: its run could not commit as one unit',
    );
    return [];
  }
  return answered.map(({ outcome }) => ({ ...outcome, duplicate: false }));
}

/**
 * The inbox counts the conversations it assigns (its agents' loads): an accepted assignment or
 * unassignment is told to it afterwards, as `conversations.assign` does (AS9, AS7). Not part of
 * the command's transaction (another aggregate); a failure is logged, the assignment stands.
 */
async function tellInboxes(
  services: CommandServices,
  client: CommandClient,
  commands: readonly NumberedCommand[],
  answers: readonly CommandAnswer[],
): Promise<void> {
  // One joint ask for the batch (decision 0014): each inbox decides its notices in command order,
  // and they commit in one transaction, not one per assignment.
  const byInbox = new Map<string, { commands: InboxCommand[]; metadata: JsonObject[]; about: string[] }>();
  for (const [i, answer] of answers.entries()) {
    if (answer.status !== 'accepted' || answer.duplicate) continue;
    const numbered = commands[i]!;
    const type = numbered.command.type;
    if (type !== 'AssignConversation' && type !== 'UnassignConversation') continue;
    if (
      !answer.events.some(
        (event) => event.type === 'ConversationAssigned' || event.type === 'ConversationUnassigned',
      )
    )
      continue;
    const { conversationId } = numbered;
    let inboxId: string;
    try {
      const { state } = await services.grains.conversation(client.tenantId, conversationId).read();
      if (!state) continue;
      inboxId = state.inboxId;
    } catch (error) {
      services.logger?.warn({ err: error, conversationId }, 'the inbox did not hear of an assignment');
      continue;
    }
    const at = client.now;
    const notices = byInbox.get(inboxId) ?? { commands: [], metadata: [], about: [] };
    notices.commands.push(
      numbered.command.type === 'AssignConversation'
        ? { type: 'AssignManually', data: { conversationId, agentId: numbered.command.agentId, at } }
        : { type: 'ReleaseConversation', data: { conversationId, at } },
    );
    notices.metadata.push(commandMetadata(client, numbered));
    notices.about.push(conversationId);
    byInbox.set(inboxId, notices);
  }
  if (byInbox.size === 0) return;
  const asks = [...byInbox].map(([id, notices]) => ({ id, ...notices }));
  const warn = (error: unknown, conversationId: string) =>
    services.logger?.warn({ err: error, conversationId }, 'the inbox did not hear of an assignment');
  let results: Awaited<ReturnType<Grains['inboxesTogether']>>;
  try {
    results = await services.grains.inboxesTogether(client.tenantId, asks);
  } catch (error) {
    for (const ask of asks) for (const conversationId of ask.about) warn(error, conversationId);
    return;
  }
  for (const [i, result] of results.entries()) {
    for (const [j, outcome] of result.outcomes.entries()) {
      if (outcome.ok) continue;
      const { error } = outcome;
      // An agent outside the inbox's pool, or an inbox without an aggregate: it counts only its own.
      if (isDomainError(error) && (error.code === 'MEMBER_NOT_FOUND' || error.code === 'INBOX_NOT_FOUND'))
        continue;
      warn(error, asks[i]!.about[j]!);
    }
  }
}

/** The answer for a command the rules refused. */
function refusal(numbered: NumberedCommand, error: DomainError): CommandRefused {
  const { message, nextStep } = describeRefusal(error.code);
  return {
    status: 'refused',
    sequence: numbered.sequence,
    conversationId: numbered.conversationId,
    code: error.code,
    rule: error.details.rule ?? null,
    message,
    nextStep: nextStep ?? error.details.hint ?? null,
    detail: error.message,
    hint: error.details.hint ?? null,
  };
}

/**
 * What a sequence number was applied to, so a resend of another command under the same number is
 * refused (SEQUENCE_REUSED): a reply's client message id (as the ledger always held), else a
 * digest of the conversation and the command.
 */
export function commandKey(numbered: Pick<NumberedCommand, 'conversationId' | 'command'>): string {
  const { command } = numbered;
  if (command.type === 'QueueReply') return command.clientMessageId;
  const digest = createHash('sha256')
    .update(JSON.stringify([numbered.conversationId, command]))
    .digest('hex');
  return `${command.type}:${digest}`;
}

type ClientKey = Pick<CommandClient, 'tenantId' | 'agentId' | 'clientId'>;

async function lastSequence(tx: SqlQueryable, key: ClientKey): Promise<number> {
  const rows = await tx.query<{ last: string }>(
    `SELECT last_sequence::text AS last FROM client_sequences
      WHERE tenant_id = $1 AND agent_id = $2 AND client_id = $3`,
    [key.tenantId, key.agentId, key.clientId],
  );
  return rows[0] ? Number(rows[0].last) : 0;
}

/**
 * Moves the client's last applied number over a run of consecutive numbers, from the first one's
 * predecessor to the last one, and stores each answer; false (and no change) when the number is no
 * longer where the run starts.
 */
async function advanceRun(
  tx: SqlQueryable,
  key: ClientKey,
  run: readonly { readonly key: string; readonly outcome: CommandOutcome }[],
): Promise<boolean> {
  const first = run[0]!.outcome.sequence;
  const last = first + run.length - 1;
  const client = [key.tenantId, key.agentId, key.clientId];
  const moved =
    first === 1
      ? await tx.query(
          `INSERT INTO client_sequences (tenant_id, agent_id, client_id, last_sequence)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
          [...client, last],
        )
      : await tx.query(
          `UPDATE client_sequences SET last_sequence = $4, updated_at = now()
            WHERE tenant_id = $1 AND agent_id = $2 AND client_id = $3 AND last_sequence = $5::bigint
          RETURNING 1`,
          [...client, last, first - 1],
        );
  if (moved.length === 0) return false;
  await tx.query(
    `INSERT INTO client_replies (tenant_id, agent_id, client_id, sequence, client_message_id, outcome)
     SELECT $1, $2, $3, x.sequence, x.message, x.outcome
       FROM jsonb_to_recordset($4::jsonb) AS x(sequence bigint, message text, outcome jsonb)`,
    [
      ...client,
      JSON.stringify(
        run.map(({ key: message, outcome }) => ({ sequence: outcome.sequence, message, outcome })),
      ),
    ],
  );
  return true;
}

/** An answer the ledger stored before #14 (replies only), in the shape it had then. */
interface LegacyReplyOutcome {
  readonly kind: 'accepted' | 'refused';
  readonly sequence: number;
  readonly conversationId: string;
  readonly version?: number;
  readonly cursor?: string | null;
  readonly code?: string;
  readonly rule?: string | null;
  readonly message?: string;
  readonly hint?: string | null;
}

/** A stored answer as today's shape, whichever shape it was stored in. */
function fromStored(stored: CommandOutcome | LegacyReplyOutcome): CommandOutcome {
  if ('status' in stored) return stored;
  if (stored.kind === 'accepted') {
    const { sequence, conversationId, version = 0, cursor = null } = stored;
    return {
      status: 'accepted',
      sequence,
      conversationId,
      version,
      events: cursor === null ? [] : [{ type: 'ReplyQueued', version, cursor }],
    };
  }
  const code = stored.code ?? 'REFUSED';
  const { message, nextStep } = describeRefusal(code);
  return {
    status: 'refused',
    sequence: stored.sequence,
    conversationId: stored.conversationId,
    code,
    rule: stored.rule ?? null,
    message,
    nextStep: nextStep ?? stored.hint ?? null,
    detail: stored.message ?? message,
    hint: stored.hint ?? null,
  };
}

async function storedAnswer(
  db: Database,
  client: CommandClient,
  sequence: number,
  key: string,
): Promise<CommandAnswer> {
  const rows = await withTenant(db.sql, client.tenantId, (tx) =>
    tx.query<{ client_message_id: string; outcome: CommandOutcome | LegacyReplyOutcome }>(
      `SELECT client_message_id, outcome FROM client_replies
        WHERE tenant_id = $1 AND agent_id = $2 AND client_id = $3 AND sequence = $4`,
      [client.tenantId, client.agentId, client.clientId, sequence],
    ),
  );
  const stored = rows[0];
  if (!stored || stored.client_message_id !== key) {
    throw new DomainError(
      ReplyErrorCode.SEQUENCE_REUSED,
      `sequence ${sequence} of this client was applied to another command`,
      { hint: 'number each command once; start a new client id if the outbox lost its numbering' },
    );
  }
  return { ...fromStored(stored.outcome), duplicate: true };
}

async function loadTemplates(tx: SqlQueryable): Promise<MessageTemplate[]> {
  const rows = await tx.query<{ name: string; language: string; approved: boolean; param_count: number }>(
    'SELECT name, language, approved, param_count FROM message_templates ORDER BY name, language',
  );
  return rows.map((row) => ({
    name: row.name,
    language: row.language,
    approved: row.approved,
    paramCount: row.param_count,
  }));
}

// Replies, as `conversations.reply` and `replyBatch` take and answer them (before #14): thin
// wrappers over the command path.

/** One numbered reply. */
export interface NumberedReply {
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
}

/** The reply is queued for delivery; `cursor` is its event's place in the log (null if queued before). */
export interface ReplyAccepted {
  readonly kind: 'accepted';
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly version: number;
  readonly cursor: string | null;
}

/** The rules refused the reply for good (the window closed, say). */
export interface ReplyRefused {
  readonly kind: 'refused';
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly code: string;
  readonly rule: string | null;
  readonly message: string;
  readonly hint: string | null;
}

/** The sequence skips ahead: resend from `expectedSequence`, in order. */
export interface ReplyOutOfOrder {
  readonly kind: 'out-of-order';
  readonly sequence: number;
  readonly expectedSequence: number;
}

export type ReplyAnswer =
  ((ReplyAccepted | ReplyRefused) & { readonly duplicate: boolean }) | ReplyOutOfOrder;

/** The most replies one `replyBatch` request may carry. */
export const MAX_REPLY_BATCH = MAX_COMMAND_BATCH;

function asReplyCommand(reply: NumberedReply): NumberedCommand {
  const { sequence, conversationId, clientMessageId, content, tag } = reply;
  return { sequence, conversationId, command: { type: 'QueueReply', clientMessageId, content, tag } };
}

function asReplyAnswer(answer: CommandAnswer, reply: NumberedReply): ReplyAnswer {
  if (answer.status === 'out-of-order') {
    return { kind: 'out-of-order', sequence: answer.sequence, expectedSequence: answer.expected };
  }
  const base = {
    sequence: answer.sequence,
    clientMessageId: reply.clientMessageId,
    conversationId: answer.conversationId,
    duplicate: answer.duplicate,
  };
  if (answer.status === 'accepted') {
    const queued = answer.events.find((event) => event.type === 'ReplyQueued');
    return {
      kind: 'accepted',
      ...base,
      version: queued?.version ?? answer.version,
      cursor: queued?.cursor ?? null,
    };
  }
  return {
    kind: 'refused',
    ...base,
    code: answer.code,
    rule: answer.rule,
    message: answer.detail,
    hint: answer.hint,
  };
}

/** `conversations.reply`: one numbered reply through the command path. */
export async function sendReply(
  services: CommandServices,
  request: CommandClient & NumberedReply,
): Promise<ReplyAnswer> {
  const { answers } = await sendCommandBatch(services, request, [asReplyCommand(request)]);
  return asReplyAnswer(answers[0]!, request);
}

/** `conversations.replyBatch`: a run of numbered replies through the command path. */
export async function sendReplyBatch(
  services: CommandServices,
  batch: CommandClient & { readonly replies: readonly NumberedReply[] },
  onStop: (error: unknown, reply: NumberedReply) => void = () => undefined,
): Promise<{ answers: ReplyAnswer[] }> {
  const { replies, ...client } = batch;
  const { answers } = await sendCommandBatch(
    services,
    client,
    replies.map(asReplyCommand),
    (error, numbered) =>
      onStop(
        error,
        replies.find((reply) => reply.sequence === numbered.sequence)!,
      ),
  );
  return { answers: answers.map((answer, i) => asReplyAnswer(answer, replies[i]!)) };
}
