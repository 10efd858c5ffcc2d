import { tenantId, type StreamId, type TenantId } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGrainRuntime, type GrainRuntime } from '../src/actors/runtime';
import { createSqlSnapshotStore } from '../src/actors/sql-snapshots';
import { createLocalBroadcast } from '../src/broadcast/local';
import { createGrains, type Grains } from '../src/grains';
import { createLogger } from '../src/logger';
import { SqlEventStore } from '../src/store/sql-store';
import { startWorkflowEngine, type WorkflowEngine } from '../src/workflow-engine';
import { freshPglite, type TestDatabase } from './support/databases';

const acme = tenantId('acme');
const at = Date.parse('2026-11-22T10:00:00Z');

describe('workflow engine (process manager)', () => {
  let test: TestDatabase;
  let store: SqlEventStore;
  let runtime: GrainRuntime;
  let grains: Grains;
  let engine: WorkflowEngine | undefined;
  const logger = createLogger('silent');
  const start = async () => {
    engine = await startWorkflowEngine({ store, grains, db: test.db, logger });
    return engine;
  };

  beforeEach(async () => {
    test = await freshPglite();
    store = await SqlEventStore.open({
      db: test.db,
      archiveDir: `${test.dataDir}/archive`,
      pollIntervalMs: 50,
    });
    runtime = createGrainRuntime({
      store,
      snapshots: createSqlSnapshotStore(test.db),
      broadcast: createLocalBroadcast(),
      sweepEveryMs: 0,
    });
    grains = createGrains(runtime);
    await grains.inbox(acme, 'support').ask({
      type: 'CreateInbox',
      data: {
        inboxId: 'support',
        name: 'Support',
        channel: { platform: 'whatsapp', channelId: 'wa-1' },
        policy: 'round-robin',
        at,
      },
    });
    for (const agentId of ['ana', 'bo']) {
      await grains
        .inbox(acme, 'support')
        .ask({ type: 'AddMember', data: { agentId, weight: 1, capacity: 5, presence: 'online', at } });
    }
    await grains.workflow(acme, 'support').ask({
      type: 'CreateWorkflow',
      data: {
        definition: {
          workflowId: 'support',
          name: 'Support board',
          stages: [
            {
              id: 'new',
              name: 'New',
              wipLimit: null,
              entryActions: [{ type: 'add-label', label: 'triage' }],
            },
            {
              id: 'done',
              name: 'Done',
              wipLimit: null,
              entryActions: [{ type: 'set-status', status: 'resolved' }],
            },
          ],
          transitions: [],
        },
        at,
      },
    });
  });

  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
    await runtime.close();
    await store.close();
    await test.dispose();
  });

  const customerWrites = (t: TenantId, conversationId: string, n: number) =>
    grains.conversation(t, conversationId).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `wamid.${conversationId}.${n}`,
        contact: { id: `c-${conversationId}`, name: 'Dana', handle: '+491700000' },
        content: { type: 'text', text: 'hello' },
        sentAt: at + n,
      },
    });

  it('assigns a new conversation by the inbox policy and puts its card on the first stage with its entry actions', async () => {
    await start();
    await customerWrites(acme, 'c1', 1);
    await customerWrites(acme, 'c2', 1);
    await engine!.settled();
    const [c1, c2] = [
      (await grains.conversation(acme, 'c1').read()).state,
      (await grains.conversation(acme, 'c2').read()).state,
    ];
    expect([c1?.assigneeId, c2?.assigneeId].sort()).toEqual(['ana', 'bo']); // round-robin spreads them
    expect(c1?.labels).toEqual(['triage']);
    expect((await grains.card(acme, 'c1').read()).state).toMatchObject({ stageId: 'new', cycle: 1 });
  });

  it("[AC3] an assignment the inbox's policy chose names the policy in the conversation's event", async () => {
    await start();
    await customerWrites(acme, 'c1', 1);
    await engine!.settled();
    const events = await store.readStream(acme, 'conversation-c1' as StreamId);
    const assigned = events.filter((event) => event.type === 'ConversationAssigned');
    expect(assigned).toHaveLength(1);
    expect(assigned[0]!.data).toMatchObject({ policy: 'round-robin' });
  });

  it('releases a resolved conversation from its inbox, so the agent has capacity again', async () => {
    await start();
    await customerWrites(acme, 'c1', 1);
    await engine!.settled();
    await grains
      .conversation(acme, 'c1')
      .ask({ type: 'SetStatus', data: { status: 'resolved', at: at + 10 } });
    await engine!.settled();
    const inbox = (await grains.inbox(acme, 'support').read()).state;
    expect(inbox?.assignments.has('c1')).toBe(false);
  });

  it('resumes from its checkpoint after a restart without repeating a command', async () => {
    await start();
    await customerWrites(acme, 'c1', 1);
    await engine!.settled();
    await engine!.stop();
    const before = await store.readAll(acme, '0:0' as never, 1000);
    await customerWrites(acme, 'c2', 1);
    await start();
    await engine!.settled();
    const after = await store.readAll(acme, '0:0' as never, 1000);
    const newEvents = after.events.slice(before.events.length);
    // c2's own three events plus what the engine did for c2 only: nothing more for c1.
    expect(
      newEvents.every(
        (e) => e.streamId.endsWith('c2') || (e.data as { conversationId?: string }).conversationId === 'c2',
      ),
    ).toBe(true);
    expect(newEvents.filter((e) => e.type === 'AgentAssigned')).toHaveLength(1);
  });
});
