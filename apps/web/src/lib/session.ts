import type { ClientCommand, MessageTag, MessageTemplate, ReplyContent } from '@parley/domain';
import {
  createClient,
  errorData,
  commandTransport,
  classifyReplyError,
  syncApi,
  type Client,
} from './api/client';
import { databaseName, ParleyDb } from './db/schema';
import { newId } from './ids';
import { OutboxFlusher } from './outbox/flusher';
import { uploadFilesOf } from './attachments';
import { browserLocks } from './outbox/locks';
import {
  queueCommand,
  queueReply,
  takeBack,
  type CommandResult,
  type CommandTarget,
  type QueueResult,
  type ReplyTarget,
} from './outbox/queue';
import { SyncEngine } from './sync/engine';
import { evictCachedMedia } from './sync/erasure';
import { redactPastRetention, RETENTION_PASS_MS, storedRetention, storeRetention } from './retention/device';

/** Who is signed in on this device, kept so the app opens offline. */
export interface Account {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly agent: {
    readonly id: string;
    readonly name: string;
    readonly email: string;
    readonly role: string;
  };
}

const ACCOUNT_KEY = 'parley.account';

export function storedAccount(): Account | null {
  try {
    const raw = localStorage.getItem(ACCOUNT_KEY);
    return raw ? (JSON.parse(raw) as Account) : null;
  } catch {
    return null;
  }
}

/**
 * Erases what this device keeps of an account (0018), after signing out: its database and its
 * boards' documents (IndexedDB), its remembered board list, and the cached media. The app shell's
 * precache stays: it holds no one's data, and the app still opens offline for the next person.
 */
export async function eraseDeviceData(account: Account): Promise<void> {
  const prefix = databaseName(account.tenantId, account.agent.id);
  const listed = (await indexedDB.databases?.().catch(() => [])) ?? [];
  const names = new Set([prefix, ...listed.map((each) => each.name ?? '')]);
  await Promise.all(
    [...names]
      .filter((name) => name === prefix || name.startsWith(`${prefix}:`))
      .map(
        (name) =>
          new Promise<void>((resolve) => {
            const request = indexedDB.deleteDatabase(name);
            // Blocked by a connection still closing: the deletion waits for it, we need not.
            request.onsuccess = request.onerror = request.onblocked = () => resolve();
          }),
      ),
  );
  const boardsKey = `parley.boards:${account.tenantId}:${account.agent.id}`;
  for (const key of Object.keys(localStorage)) if (key === boardsKey) localStorage.removeItem(key);
  if (typeof caches !== 'undefined') {
    for (const name of await caches.keys()) {
      if (!name.startsWith('workbox-precache')) await caches.delete(name);
    }
  }
}

/** A template the composer offers, with its text for the preview. */
export interface TemplateInfo extends MessageTemplate {
  readonly body: string;
}

export interface CannedResponse {
  readonly id: string;
  readonly shortcut: string;
  readonly text: string;
}

export interface AgentInfo {
  readonly id: string;
  readonly name: string;
  /** False for a deactivated colleague: named in history, offered for nothing (decision 0035). */
  readonly active?: boolean;
}

/** Signs in, stores the account, and asks the browser to keep this origin's storage. */
export async function signIn(
  client: Client,
  input: { tenantId: string; email: string; password: string },
): Promise<Account> {
  const result = await client.auth.signIn.mutate(input);
  const me = await client.auth.me.query();
  const account: Account = {
    tenantId: result.tenantId,
    tenantName: me.tenant.name,
    agent: {
      id: result.agent.id,
      name: result.agent.name,
      email: result.agent.email,
      role: result.agent.role,
    },
  };
  localStorage.setItem(ACCOUNT_KEY, JSON.stringify(account));
  // Queued replies must survive storage pressure: ask once signed in (Chromium grants installed apps).
  await navigator.storage?.persist?.().catch(() => false);
  return account;
}

/**
 * One signed-in account on this tab: its database, the sync engine and the outbox flusher, wired
 * to the browser's signals (start, `online`, becoming visible, reconnecting).
 */
export class Session {
  readonly db: ParleyDb;
  readonly client: Client;
  readonly engine: SyncEngine;
  readonly flusher: OutboxFlusher;
  private readonly cleanups: (() => void)[] = [];
  private unauthorizedListeners = new Set<() => void>();
  unauthorized = false;

  constructor(readonly account: Account) {
    this.client = createClient();
    this.db = new ParleyDb(databaseName(account.tenantId, account.agent.id));
    this.flusher = new OutboxFlusher({
      db: this.db,
      send: commandTransport(this.client),
      classify: classifyReplyError,
      locks: browserLocks(),
      lockName: `parley-outbox:${this.db.name}`,
      newClientId: newId,
      // A reply's file goes up (by hash, idempotent) before the reply itself (decision 0027).
      beforeSend: (rows, signal) => uploadFilesOf(this.db, rows, signal),
      // Catch-up first: an erasure it brings drops the contact's queued commands (decision 0029).
      holdWhile: () => this.engine.phase === 'catching-up',
    });
    this.engine = new SyncEngine({
      db: this.db,
      api: syncApi(this.client),
      onCaughtUp: () => {
        void this.flusher.flush({ resetBackoff: true });
        void this.refreshCatalogue();
      },
    });
    this.flusher.subscribe(() => {
      if (this.flusher.current.phase === 'unauthorized') this.setUnauthorized();
    });
    // A live stream that ended and a catch-up that failed: the network, or an ended session (signed
    // out everywhere, deactivated by an admin: decision 0035)? Asked each time it goes offline.
    this.engine.subscribe(() => {
      if (this.engine.phase === 'offline' && !this.unauthorized && !isOffline()) void this.checkSession();
    });
  }

  /** Starts syncing and flushing, and listens for the moments to try again. */
  start(): void {
    const online = () => {
      void this.engine.start();
      void this.flusher.flush({ resetBackoff: true });
    };
    const visible = () => {
      if (document.visibilityState !== 'visible') return;
      if (this.engine.phase === 'offline') void this.engine.start();
      void this.flusher.flush({ resetBackoff: true });
    };
    window.addEventListener('online', online);
    document.addEventListener('visibilitychange', visible);
    this.cleanups.push(() => window.removeEventListener('online', online));
    this.cleanups.push(() => document.removeEventListener('visibilitychange', visible));
    void this.engine.start().then(() => {
      if (this.engine.phase === 'offline') void this.checkSession();
    });
    void this.flusher.flush();
    // The tenant's retention, as last heard, is honoured at start (offline too) and then daily.
    void this.honourRetention();
    const daily = setInterval(() => void this.honourRetention(), RETENTION_PASS_MS);
    this.cleanups.push(() => clearInterval(daily));
  }

  /** Redacts the synced content the tenant's retention has made unreadable (decision 0031). */
  private async honourRetention(): Promise<void> {
    try {
      const pass = await redactPastRetention(this.db, await storedRetention(this.db), Date.now());
      await evictCachedMedia(pass.media);
    } catch {
      // The database closed (signed out) or is busy: the next pass catches up.
    }
  }

  stop(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.engine.stop();
    this.flusher.stop();
    this.db.close();
  }

  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  private setUnauthorized(): void {
    if (this.unauthorized) return;
    this.unauthorized = true;
    for (const listener of this.unauthorizedListeners) listener();
  }

  /** After a failed catch-up: is it the network, or has the session ended? */
  private async checkSession(): Promise<void> {
    try {
      await this.client.auth.me.query();
    } catch (error) {
      if (errorData(error)?.httpStatus === 401) this.setUnauthorized();
    }
  }

  /** Signed in again after the session ended: carry on where the outbox stopped. */
  resume(): void {
    this.unauthorized = false;
    void this.engine.start();
    void this.flusher.flush({ resetBackoff: true });
  }

  /** Queues a reply (the domain's checks first) and starts sending it if the network allows. */
  async reply(
    target: ReplyTarget,
    content: ReplyContent,
    tag: MessageTag | null = null,
  ): Promise<QueueResult> {
    const templates = await this.templates();
    const result = await queueReply(
      this.db,
      target,
      { content, tag, agentId: this.account.agent.id },
      { now: Date.now(), templates, offline: isOffline() },
    );
    if (result.ok) void this.flusher.flush();
    return result;
  }

  /**
   * Queues any command on a conversation (note, label, assignment, status, snooze, priority, read
   * state): the domain decides it here first, it shows at once as pending, and the outbox sends it
   * when the network allows. Works offline.
   */
  async command(target: CommandTarget, command: ClientCommand): Promise<CommandResult> {
    const templates = await this.templates();
    const result = await queueCommand(this.db, target, command, {
      agentId: this.account.agent.id,
      now: Date.now(),
      templates,
      offline: isOffline(),
    });
    if (result.ok && result.row) void this.flusher.flush();
    return result;
  }

  takeBack(clientMessageId: string) {
    return takeBack(this.db, clientMessageId);
  }

  async templates(): Promise<TemplateInfo[]> {
    return ((await this.db.meta.get('templates'))?.value as TemplateInfo[] | undefined) ?? [];
  }

  /** Templates, canned responses, agents and board stages, kept for offline use. */
  async refreshCatalogue(): Promise<void> {
    try {
      const [templates, canned, agents, workflows] = await Promise.all([
        this.client.catalog.templates.query(),
        this.client.catalog.cannedResponses.query(),
        this.client.agents.list.query(),
        this.client.boards.workflows.query(),
      ]);
      await this.db.meta.bulkPut([
        { key: 'templates', value: templates },
        { key: 'canned', value: canned },
        {
          key: 'agents',
          value: agents.map((agent) => ({ id: agent.id, name: agent.name, active: agent.active })),
        },
        // Stage names for activity lines ("Moved to Waiting on customer", AC4).
        {
          key: 'stages',
          value: workflows.flatMap((workflow) => workflow.stages.map(({ id, name }) => ({ id, name }))),
        },
      ]);
    } catch {
      // Offline or signed out: the stored catalogue stays.
    }
    try {
      const { retentionDays } = await this.client.catalog.retention.query();
      await storeRetention(this.db, retentionDays);
      await this.honourRetention();
    } catch {
      // Offline, signed out, or an older server: the stored retention stays.
    }
  }

  async signOut(): Promise<void> {
    await this.client.auth.signOut.mutate().catch(() => undefined);
    localStorage.removeItem(ACCOUNT_KEY);
    this.stop();
  }
}

/** The browser says it has no network: a command queued now waits in the outbox (rule CC3). */
function isOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}
