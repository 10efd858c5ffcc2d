import { join } from 'node:path';
import { createGrainRuntime, type GrainRuntime } from './actors/runtime';
import { openAttachments, type Attachments } from './attachments';
import { createLocalBroadcast, type LocalBroadcast } from './broadcast/local';
import type { Config } from './config';
import { createEventCodec } from './crypto/event-codec';
import { KeyStore } from './crypto/keys';
import { startRetentionSweeper, type RetentionSweeper } from './crypto/retention';
import { createSecretBox } from './crypto/secrets';
import { createSealedSnapshotStore } from './crypto/sealed-snapshots';
import { loadMasterKeyring } from './crypto/master-key';
import { openDatabase, type Database } from './db/database';
import { startNotifications, type Notifications } from './notifications';
import { createPresenceHub, type PresenceHub } from './presence';
import { migrate } from './db/migrator';
import { startChannels, seedDemoChannels, type Channels } from './channels';
import { loadChannelsConfig } from './channels/config';
import { createGrains, type Grains } from './grains';
import type { Logger } from './logger';
import { agentLoadProjection, type AgentLoadState } from './projections/agent-load';
import { startAnalyticsProjection, type AnalyticsProjection } from './projections/analytics';
import { inboxListProjection, type InboxListState } from './projections/inbox-list';
import { createProjectionRunner, type ProjectionRunner } from './projections/projection';
import { startSearchIndex, type SearchIndex } from './search/search-index';
import { startSnoozeSweeper, type SnoozeSweeper } from './snooze-sweeper';
import { routeDemoConversations, seedDemo } from './seed';
import { SqlEventStore } from './store/sql-store';
import { lead, type Leadership } from './ops/leadership';
import { startWorkflowEngine, type WorkflowEngine } from './workflow-engine';

/** The long-lived parts of one Parley process, opened in order and closed in reverse. */
export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly store: SqlEventStore;
  /** The key hierarchy that seals personal data in events (docs/decisions/0022). */
  readonly keys: KeyStore;
  readonly broadcast: LocalBroadcast;
  /** Who is viewing or typing in which conversation: ephemeral, over the broadcast's signals (0026). */
  readonly presence: PresenceHub;
  /** Who is told of what (assigned, answered, mentioned): in-app notices and Web Push (0026). */
  readonly notifications: Notifications;
  readonly runtime: GrainRuntime;
  /** Typed handles on conversation, inbox, workflow and card grains. */
  readonly grains: Grains;
  readonly projections: {
    readonly inboxList: ProjectionRunner<InboxListState>;
    readonly agentLoad: ProjectionRunner<AgentLoadState>;
  };
  /** The reporting tables (analytics_*), fed from the log with a stored checkpoint (#16). */
  readonly analytics: AnalyticsProjection;
  /** The full-text index of messages, replies and notes (#15, decision 0025). */
  readonly search: SearchIndex;
  /** Wakes snoozed conversations at their time (rule LS3). */
  readonly snoozeSweeper: SnoozeSweeper;
  /** Destroys the keys of message content past each tenant's retention, hourly (decision 0031). */
  readonly retentionSweeper: RetentionSweeper;
  /** The process manager that assigns conversations and runs workflow entry actions. */
  readonly workflowEngine: WorkflowEngine & { readonly leadership: Leadership };
  /** Webhook ingest, the reply outbox and its dispatcher, and (embedded default) the platform simulators. */
  readonly channels: Channels;
  /** Agents' and customers' files, per tenant and content-addressed (docs/decisions/0027). */
  readonly attachments: Attachments;
  close(): Promise<void>;
}

/** Opens the database (migrating it), the store, the grain runtime and the projections. */
export async function openServices(config: Config, logger: Logger): Promise<Services> {
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onListenChange: (listen, error) => {
      if (listen.state === 'reconnecting')
        logger.warn(
          { err: error, listen },
          "LISTEN connection lost: reconnecting; other processes' commits are polled meanwhile",
        );
      else if (listen.state === 'listening' && listen.reconnects > 0)
        logger.info({ listen }, 'LISTEN connection back');
    },
    onConnectionError: (error) =>
      logger.warn({ err: error }, 'database connection lost: it is discarded, its work fails or is retried'),
  });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => logger.error({ err: error }, 'close failed'));
  };
  try {
    await migrate(db.sql, undefined, (name) => logger.info({ migration: name }, 'applied migration'));
    const ring = () => loadMasterKeyring(process.env, config.dataDir);
    const keys = new KeyStore(db.sql, ring(), ring);
    const store = await SqlEventStore.open({
      db,
      archiveDir: join(config.dataDir, 'archive'),
      codec: createEventCodec(keys),
    });
    closers.push(() => store.close());
    const broadcast = createLocalBroadcast();
    closers.push(() => broadcast.close());
    const presence = createPresenceHub(broadcast);
    closers.push(() => Promise.resolve(presence.close()));
    const runtime = createGrainRuntime({
      store,
      snapshots: createSealedSnapshotStore(db, keys), // sealed at rest (docs/decisions/0032)
      broadcast,
      onError: (error, context) => logger.warn({ err: error, ...context }, 'grain background step failed'),
    });
    closers.push(() => runtime.close());
    const onError = (error: unknown) =>
      logger.warn({ err: error }, 'projection update failed; the next catch-up repairs it');
    const projections = {
      inboxList: createProjectionRunner({ projection: inboxListProjection, store, broadcast, onError }),
      agentLoad: createProjectionRunner({ projection: agentLoadProjection, store, broadcast, onError }),
    };
    for (const runner of Object.values(projections)) {
      await runner.start();
      closers.push(() => runner.stop());
    }
    const analytics = await startAnalyticsProjection({ store, db, logger });
    closers.push(() => analytics.stop());
    const search = await startSearchIndex({ store, db, logger });
    closers.push(() => search.stop());
    const grains = createGrains(runtime);
    const snoozeSweeper = startSnoozeSweeper({ grains, inboxList: projections.inboxList, logger });
    closers.push(() => snoozeSweeper.stop());
    const attachments = openAttachments({
      sql: db.sql,
      dataDir: config.dataDir,
      masterKey: ring().current.key,
    });
    // Bytes an erasure queued for deletion and did not get to delete (a crash cut it short).
    await attachments
      .drain()
      .catch((error: unknown) =>
        logger.warn(
          { err: error },
          "an erased file's bytes could not be deleted yet; the next erasure or start retries",
        ),
      );
    const retentionSweeper = startRetentionSweeper({
      db,
      store,
      keys,
      runtime,
      projections,
      attachments,
      logger,
    });
    closers.push(() => retentionSweeper.stop());
    // One engine in a cluster: it runs in the process holding its advisory lock (decision 0040).
    const workflowEngine = await leadWorkflowEngine(config.databaseUrl, logger, () =>
      startWorkflowEngine({ store, grains, db, logger }),
    );
    closers.push(() => workflowEngine.stop());
    // ---- channels (server/src/channels): closed before the runtime, which its loops still use ----
    const channelsConfig = loadChannelsConfig(process.env, !config.databaseUrl);
    const secrets = createSecretBox(keys);
    const channels = await startChannels(
      { sql: db.sql, grains, logger, broadcast, secrets },
      {
        ...channelsConfig,
        mediaLinkPath: (tenant, hash) => attachments.linkPath(tenant, hash),
        storeInboundFile: (tenant, body, claimedMime) => attachments.upload(tenant, body, { claimedMime }),
      },
    );
    closers.push(() => channels.close());
    if (channelsConfig.simulators) await seedDemoChannels({ channels });
    if (!config.databaseUrl) {
      await seedDemo({ db, grains }); // the embedded default's demo tenants (README)
      await routeDemoConversations({ db }); // replies to them go out on the demo channel, if there is one
    }
    // After the seed, so that a first start's history is not news.
    const notifications = await startNotifications({
      db,
      store,
      grains,
      secrets,
      signals: broadcast,
      logger,
    });
    closers.push(() => notifications.stop());
    return {
      config,
      logger,
      db,
      store,
      keys,
      broadcast,
      presence,
      notifications,
      runtime,
      grains,
      projections,
      analytics,
      search,
      snoozeSweeper,
      retentionSweeper,
      workflowEngine,
      channels,
      attachments,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The workflow engine under leadership: `settled` waits for this process's engine, if it leads. */
async function leadWorkflowEngine(
  databaseUrl: string | undefined,
  logger: Logger,
  start: () => Promise<WorkflowEngine>,
): Promise<WorkflowEngine & { readonly leadership: Leadership }> {
  let engine: WorkflowEngine | undefined;
  const leadership = await lead({
    name: 'workflow-engine',
    databaseUrl,
    logger,
    start: async () => {
      const started = await start();
      engine = started;
      return {
        stop: async () => {
          engine = undefined;
          await started.stop();
        },
      };
    },
  });
  return {
    leadership,
    settled: () => engine?.settled() ?? Promise.resolve(),
    stop: () => leadership.close(),
  };
}
