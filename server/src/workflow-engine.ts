import {
  isDomainError,
  streamCategory,
  streamEntityId,
  StreamCategory,
  type AssignmentPolicy,
  type Checkpoint,
  type EntryAction,
  type RecordedEvent,
  type TenantId,
} from '@parley/domain';
import { generateKeyBetween } from 'fractional-indexing';
import type { Database } from './db/database';
import type { Grains } from './grains';
import type { Logger } from './logger';
import { compareCheckpoints, START } from './store/checkpoint';
import type { EventStore } from './store/types';

/** What the workflow engine reads, writes and tells. */
export interface WorkflowEngineOptions {
  readonly store: EventStore;
  readonly grains: Grains;
  readonly db: Database;
  readonly logger: Logger;
  /** The checkpoint's name in `subscription_checkpoints`. */
  readonly name?: string;
  /** Which workflow a conversation of an inbox enters; by default the workflow with the inbox's id. */
  readonly workflowFor?: (tenantId: TenantId, inboxId: string) => string;
}

/** A running engine. */
export interface WorkflowEngine {
  /** Resolves once every event committed before the call has been handled. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The workflow engine: a process manager that turns one aggregate's events into another's commands,
 * since aggregates never call each other (packages/domain/CONTEXT.md):
 * - a conversation's `CycleStarted` asks its inbox for an agent and puts its card on the workflow;
 * - an inbox's `AgentAssigned` assigns the conversation; a `CycleEnded` releases it from the inbox;
 * - a card entering a stage carries out the stage's entry actions (assign, add a label, set status).
 * It follows the global log from a stored checkpoint, so a restart resumes where it stopped, and every
 * command carries an idempotency key made from the event that caused it, so a replay changes nothing.
 */
export async function startWorkflowEngine(options: WorkflowEngineOptions): Promise<WorkflowEngine> {
  const { store, grains, db, logger } = options;
  const name = options.name ?? 'workflow-engine';
  const workflowFor = options.workflowFor ?? ((_tenant: TenantId, inboxId: string) => inboxId);
  const controller = new AbortController();
  let position = await loadCheckpoint(db, name);
  let saved = position;
  const waiters: { target: Checkpoint | null; resolve: () => void }[] = [];

  const ask = async (what: string, event: RecordedEvent, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      // A rule said no (no such inbox, already assigned): nothing to do, and nothing to retry.
      if (!isDomainError(error)) throw error;
      logger.debug(
        { code: error.code, event: event.type, stream: event.streamId, what },
        'workflow step refused',
      );
    }
  };

  async function conversationInbox(tenantId: TenantId, conversationId: string): Promise<string | null> {
    return (await grains.conversation(tenantId, conversationId).read()).state?.inboxId ?? null;
  }

  async function entryActions(event: RecordedEvent, conversationId: string, actions: readonly EntryAction[]) {
    const t = event.tenantId;
    const at = event.recordedAt;
    for (const [index, action] of actions.entries()) {
      const key = `wf:${event.eventId}:${index}`;
      switch (action.type) {
        case 'assign': {
          const inboxId = await conversationInbox(t, conversationId);
          if (inboxId === null) break;
          await ask('assign', event, () =>
            grains
              .inbox(t, inboxId)
              .ask({ type: 'RequestAssignment', data: { conversationId, at } }, { idempotencyKey: key }),
          );
          break;
        }
        case 'add-label':
          await ask('label', event, () =>
            grains
              .conversation(t, conversationId)
              .ask({ type: 'AddLabel', data: { label: action.label, at } }, { idempotencyKey: key }),
          );
          break;
        case 'set-status':
          await ask('status', event, () =>
            grains
              .conversation(t, conversationId)
              .ask({ type: 'SetStatus', data: { status: action.status, at } }, { idempotencyKey: key }),
          );
          break;
        default:
          action satisfies never;
      }
    }
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const t = event.tenantId;
    const id = streamEntityId(event.streamId);
    const key = `wf:${event.eventId}`;
    const data = event.data as Record<string, unknown>;
    const at = event.recordedAt;
    switch (`${streamCategory(event.streamId)}/${event.type}`) {
      case `${StreamCategory.conversation}/CycleStarted`: {
        const inboxId = await conversationInbox(t, id);
        if (inboxId === null) return;
        await ask('assign', event, () =>
          grains
            .inbox(t, inboxId)
            .ask({ type: 'RequestAssignment', data: { conversationId: id, at } }, { idempotencyKey: key }),
        );
        const workflow = (await grains.workflow(t, workflowFor(t, inboxId)).read()).state;
        if (workflow === null) return;
        await ask('enter workflow', event, () =>
          grains.card(t, id).ask(
            {
              type: 'EnterWorkflow',
              data: {
                conversationId: id,
                cycle: Number(data.cycle),
                workflow,
                orderKey: generateKeyBetween(null, null),
                by: 'system',
                at,
              },
            },
            { idempotencyKey: key },
          ),
        );
        return;
      }
      case `${StreamCategory.conversation}/CycleEnded`: {
        const inboxId = await conversationInbox(t, id);
        if (inboxId === null) return;
        await ask('release', event, () =>
          grains
            .inbox(t, inboxId)
            .ask({ type: 'ReleaseConversation', data: { conversationId: id, at } }, { idempotencyKey: key }),
        );
        return;
      }
      case `${StreamCategory.inbox}/AgentAssigned`: {
        const conversationId = String(data.conversationId);
        const agentId = String(data.agentId);
        // AC3: the policy that picked the agent goes with the assignment (none for a person's pick).
        const policy = data.manual === true ? undefined : policyOf(data.strategy);
        await ask('assign conversation', event, () =>
          grains
            .conversation(t, conversationId)
            .ask(
              { type: 'AssignConversation', data: policy ? { agentId, at, policy } : { agentId, at } },
              { idempotencyKey: key },
            ),
        );
        return;
      }
      case `${StreamCategory.card}/CardEnteredWorkflow`:
      case `${StreamCategory.card}/CardMoved`:
        await entryActions(event, id, (data.entryActions as EntryAction[] | undefined) ?? []);
        return;
      default:
        return;
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        for await (const event of store.subscribe({ after: position, signal: controller.signal })) {
          await handle(event);
          position = event.checkpoint;
          failures = 0;
          release();
        }
        release();
      } catch (error) {
        // The event is handled again after a pause: the database may be restarting.
        failures++;
        logger.error({ err: error, checkpoint: position }, 'workflow engine step failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 100 * 2 ** failures)));
      }
    }
  }

  const saver = setInterval(() => {
    if (position === saved) return;
    const at = position;
    saveCheckpoint(db, name, at).then(
      () => {
        saved = at;
      },
      (error: unknown) => logger.warn({ err: error }, 'workflow engine checkpoint not saved; it will be'),
    );
  }, 250);

  function release(): void {
    for (const waiter of [...waiters]) {
      if (waiter.target === null || compareCheckpoints(position, waiter.target) >= 0) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  const running = run();
  return {
    async settled() {
      // Handling events appends more (an assignment, a card): wait until the log stops growing.
      for (;;) {
        const { next } = await store.readAllTenants(position, 10_000);
        if (next === position || controller.signal.aborted) return;
        await new Promise<void>((resolve) => waiters.push({ target: next, resolve }));
      }
    },
    async stop() {
      controller.abort();
      clearInterval(saver);
      await running;
      for (const waiter of waiters.splice(0)) waiter.resolve();
      await saveCheckpoint(db, name, position);
    },
  };
}

/** The assignment policy an `AgentAssigned`'s strategy state belongs to. */
function policyOf(strategy: unknown): AssignmentPolicy | undefined {
  const kind = (strategy as { kind?: unknown } | null)?.kind;
  return kind === 'round-robin' || kind === 'weighted' || kind === 'least-busy' ? kind : undefined;
}

async function loadCheckpoint(db: Database, name: string): Promise<Checkpoint> {
  const rows = await db.sql.query<{ checkpoint: string }>(
    'SELECT checkpoint FROM subscription_checkpoints WHERE name = $1',
    [name],
  );
  return (rows[0]?.checkpoint as Checkpoint | undefined) ?? START;
}

async function saveCheckpoint(db: Database, name: string, checkpoint: Checkpoint): Promise<void> {
  await db.sql.query(
    `INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
    [name, checkpoint],
  );
}
