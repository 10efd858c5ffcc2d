import {
  messagePreview,
  notificationsDue,
  seesAllInboxes,
  streamCategory,
  streamEntityId,
  StreamCategory,
  wantsNotification,
  type Checkpoint,
  type ConversationEvent,
  type NotificationTrigger,
  type RecordedEvent,
  type Role,
} from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { SecretBox } from '../crypto/secrets';
import type { Database } from '../db/database';
import type { Grains } from '../grains';
import type { Logger } from '../logger';
import { formatCheckpoint, START } from '../store/checkpoint';
import type { EventStore } from '../store/types';
import { preferencesOf } from './settings';

/** What a notification says; sealed at rest in `push_notifications.payload`. */
export interface NotificationPayload {
  readonly trigger: NotificationTrigger;
  readonly conversationId: string;
  readonly title: string;
  readonly body: string;
}

/** The checkpoint's name in `subscription_checkpoints`. */
export const NOTIFICATIONS_CHECKPOINT = 'notifications';

export const payloadPurpose = (eventId: string, agentId: string) => `notification:${eventId}:${agentId}`;

/** What the follower reads and writes. */
export interface FollowerOptions {
  readonly store: EventStore;
  readonly grains: Grains;
  readonly db: Database;
  readonly secrets: SecretBox;
  readonly logger: Logger;
  /** Called after rows were written, so the sender need not wait for its poll. */
  readonly onQueued: () => void;
}

/** A running follower. */
export interface NotificationFollower {
  /** Where it has read to. */
  position(): Checkpoint;
  stop(): Promise<void>;
}

/**
 * Follows the global log and decides who is told what (rules NT1-NT4). Each event's rows and the
 * checkpoint after it commit in one transaction, and rows are keyed by (event, agent), so a restart
 * or a replay queues nothing twice. Its first start begins at the log's head: history is not news.
 */
export async function startNotificationFollower(options: FollowerOptions): Promise<NotificationFollower> {
  const { store, grains, db, secrets, logger } = options;
  const controller = new AbortController();
  let position = (await loadCheckpoint(db)) ?? (await saveCheckpoint(db, await logHead(db)));
  /** `tenant/conversation` -> its assignee as of the last event read (the state before the next one). */
  const assignees = new Map<string, string | null>();

  async function assigneeBefore(event: RecordedEvent, conversationId: string): Promise<string | null> {
    const key = `${event.tenantId}/${conversationId}`;
    if (!assignees.has(key)) {
      if (assignees.size > 10_000) assignees.clear();
      // First sight since start: the grain's state is the nearest we know.
      assignees.set(
        key,
        (await grains.conversation(event.tenantId, conversationId).read()).state?.assigneeId ?? null,
      );
    }
    return assignees.get(key) ?? null;
  }

  async function rowsFor(event: RecordedEvent) {
    if (streamCategory(event.streamId) !== StreamCategory.conversation) return [];
    const conversationId = streamEntityId(event.streamId);
    const domainEvent = { type: event.type, data: event.data } as ConversationEvent;
    const actor = (event.metadata.actor ?? null) as { kind?: string; id?: string } | null;
    const due = notificationsDue(domainEvent, {
      assigneeId: await assigneeBefore(event, conversationId),
      actorId: actor?.kind === 'agent' && typeof actor.id === 'string' ? actor.id : null,
    });
    const key = `${event.tenantId}/${conversationId}`;
    if (domainEvent.type === 'ConversationAssigned') assignees.set(key, domainEvent.data.agentId);
    if (domainEvent.type === 'ConversationUnassigned') assignees.set(key, null);
    if (due.length === 0) return [];
    const { state } = await grains.conversation(event.tenantId, conversationId).read();
    if (!state) return [];
    const members = new Set(
      (await grains.inbox(event.tenantId, state.inboxId).read()).state?.members.map((m) => m.agentId) ?? [],
    );
    const rows: { agentId: string; trigger: NotificationTrigger; payload: string }[] = [];
    await withTenant(db.sql, event.tenantId, async (tx) => {
      for (const { agentId, trigger } of due) {
        const [agent] = await tx.query<{ role: string }>('SELECT role FROM agents WHERE id = $1', [agentId]);
        // Only an agent who may open the conversation is told of it (decision 0015).
        if (!agent || (!seesAllInboxes(agent.role as Role) && !members.has(agentId))) continue;
        if (!wantsNotification(await preferencesOf(tx, agentId), trigger)) continue;
        const payload = describe(trigger, conversationId, state.contact.name, domainEvent, await author(tx));
        rows.push({
          agentId,
          trigger,
          payload: await secrets.seal(
            event.tenantId,
            payloadPurpose(event.eventId, agentId),
            JSON.stringify(payload),
          ),
        });
      }
    });
    return rows;

    async function author(tx: Pick<Database['sql'], 'query'>): Promise<string> {
      if (domainEvent.type !== 'NoteAdded') return '';
      const [row] = await tx.query<{ name: string }>('SELECT name FROM agents WHERE id = $1', [
        domainEvent.data.agentId,
      ]);
      return row?.name ?? 'A colleague';
    }
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const rows = await rowsFor(event);
    if (rows.length === 0) return;
    await db.sql.transaction(async (tx) => {
      // One statement for every agent told of the event (PERFORMANCE.md).
      await tx.query(
        `INSERT INTO push_notifications (tenant_id, event_id, agent_id, trigger, payload)
         SELECT $1::text, $2::uuid, a, t, p FROM unnest($3::text[], $4::text[], $5::text[]) AS u(a, t, p)
         ON CONFLICT DO NOTHING`,
        [
          event.tenantId,
          event.eventId,
          rows.map((row) => row.agentId),
          rows.map((row) => row.trigger),
          rows.map((row) => row.payload),
        ],
      );
      await upsertCheckpoint(tx, event.checkpoint);
    });
    options.onQueued();
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        for await (const event of store.subscribe({ after: position, signal: controller.signal })) {
          await handle(event);
          position = event.checkpoint;
          failures = 0;
        }
      } catch (error) {
        failures++;
        logger.error({ err: error, checkpoint: position }, 'notifications step failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 100 * 2 ** failures)));
      }
    }
  }

  let saved = position;
  const saver = setInterval(() => {
    if (position === saved) return;
    const at = position;
    saveCheckpoint(db, at).then(
      () => (saved = at),
      (error: unknown) => logger.warn({ err: error }, 'notifications checkpoint not saved; it will be'),
    );
  }, 500);
  const running = run();
  return {
    position: () => position,
    async stop() {
      controller.abort();
      clearInterval(saver);
      await running;
      await saveCheckpoint(db, position);
    },
  };
}

/** The words of a notification; the contact's name and the message are the agent's to read. */
function describe(
  trigger: NotificationTrigger,
  conversationId: string,
  contactName: string,
  event: ConversationEvent,
  authorName: string,
): NotificationPayload {
  switch (trigger) {
    case 'assigned':
      return { trigger, conversationId, title: 'Assigned to you', body: contactName };
    case 'customer_replied':
      return {
        trigger,
        conversationId,
        title: contactName,
        body: event.type === 'InboundMessageReceived' ? clip(messagePreview(event.data.content)) : '',
      };
    case 'mentioned':
      return {
        trigger,
        conversationId,
        title: `${authorName} mentioned you (${contactName})`,
        body: event.type === 'NoteAdded' ? clip(event.data.text) : '',
      };
    default:
      return trigger satisfies never;
  }
}

const clip = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

async function loadCheckpoint(db: Database): Promise<Checkpoint | undefined> {
  const rows = await db.sql.query<{ checkpoint: string }>(
    'SELECT checkpoint FROM subscription_checkpoints WHERE name = $1',
    [NOTIFICATIONS_CHECKPOINT],
  );
  return rows[0]?.checkpoint as Checkpoint | undefined;
}

async function upsertCheckpoint(tx: Pick<Database['sql'], 'query'>, checkpoint: Checkpoint): Promise<void> {
  await tx.query(
    `INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
    [NOTIFICATIONS_CHECKPOINT, checkpoint],
  );
}

async function saveCheckpoint(db: Database, checkpoint: Checkpoint): Promise<Checkpoint> {
  await upsertCheckpoint(db.sql, checkpoint);
  return checkpoint;
}

/** The last event every reader can see, across tenants (as the store reads: below the snapshot's xmin). */
async function logHead(db: Database): Promise<Checkpoint> {
  const [row] = await db.sql.query<{ tx: string; pos: string }>(
    `SELECT tx_id::text AS tx, position::text AS pos FROM events
      WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY tx_id DESC, position DESC LIMIT 1`,
  );
  return row ? formatCheckpoint(row.tx, row.pos) : START;
}
