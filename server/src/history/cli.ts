import {
  isStreamId,
  isTenantId,
  StreamCategory,
  streamCategory,
  type Conversation,
  type DomainEvent,
  type JsonValue,
  type StreamId,
  type TenantId,
} from '@parley/domain';
import type { Grain } from '../actors/grain';
import { conversationView, timelineView } from '../api/views';
import { createSealedSnapshotStore } from '../crypto/sealed-snapshots';
import type { Database } from '../db/database';
import { cardGrain, conversationGrain, inboxGrain, workflowGrain } from '../grains';
import { stateAt, type HistoryEntry, type HistoryPoint } from './time-travel';
import { openSealedStore } from '../crypto/open-store';

export const INSPECT_USAGE = `  inspect <stream> --at <ISO time | version> [--tenant <id>]
                            a stream as it was then: its state folded from its events with the
                            domain's own rules (archived days included) and those events, with their
                            time and actor; --tenant only when two tenants have a stream of that id`;

interface Host {
  readonly dataDir: string;
  withDb(fn: (db: Database) => Promise<void>): Promise<void>;
}

/** A version (digits) or an ISO 8601 time with its zone; anything else is a usage error. */
export function parsePoint(value: string | undefined): HistoryPoint | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return { version: Number(value) };
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : { time };
}

/** `inspect <stream> --at <time | version>` (issue #16, docs/decisions/0032). */
export async function runInspectCommand(
  host: Host,
  rest: readonly string[],
  options: { at?: string; tenant?: string },
  print: (line: string) => void,
  usage: (message: string) => Error,
): Promise<void> {
  const [stream] = rest;
  const point = parsePoint(options.at);
  if (stream === undefined || !isStreamId(stream) || point === undefined) {
    throw usage(
      'usage: inspect <stream> --at <ISO time with zone, e.g. 2026-12-07T12:00:00Z | version> [--tenant <id>]',
    );
  }
  const named = options.tenant;
  if (named !== undefined && !isTenantId(named))
    throw usage(`tenant id ${JSON.stringify(named)} is malformed`);
  await host.withDb(async (db) => {
    const tenantId = named ?? (await tenantOf(db, stream, usage));
    const { keys, store } = await openSealedStore(db, host.dataDir);
    try {
      const sources = { store, snapshots: createSealedSnapshotStore(db, keys) };
      const latest = await store.streamVersion(tenantId, stream);
      if (latest === 0) throw new Error(`${tenantId} has no stream ${stream}`);
      const grain = grainOf(stream);
      const shown = await inspectWith(sources, grain, tenantId, stream, point);
      print(
        `${stream} in ${tenantId}: version ${shown.version} of ${latest}` +
          ('time' in point ? ` (as of ${new Date(point.time).toISOString()})` : '') +
          (grain === undefined
            ? `; no aggregate folds ${streamCategory(stream)} streams, events only`
            : shown.fromSnapshot === null
              ? '; folded from the first event'
              : `; folded from the snapshot at version ${shown.fromSnapshot}`),
      );
      print('events:');
      if (shown.events.length === 0) print('  (none yet)');
      for (const entry of shown.events) print(`  ${formatEntry(entry)}`);
      for (const [title, value] of [
        ['state', shown.state],
        ['timeline', shown.timeline],
      ] as const) {
        if (value === undefined) continue;
        print(`${title}:`);
        for (const line of JSON.stringify(value, null, 2).split('\n')) print(`  ${line}`);
      }
    } finally {
      await store.close();
    }
  });
}

type Sources = Parameters<typeof stateAt>[0];

/**
 * The state as JSON: a conversation as `conversations.at` shows it (its view and its timeline),
 * other aggregates through their snapshot codec.
 */
async function inspectWith<Command, State, Event extends DomainEvent>(
  sources: Sources,
  grain: Grain<Command, State, Event> | undefined,
  tenantId: TenantId,
  stream: StreamId,
  point: HistoryPoint,
): Promise<Inspected> {
  if (!grain) {
    const all = await stateAt(sources, eventsOnly, tenantId, stream, point);
    return { ...all, state: undefined, timeline: undefined };
  }
  const past = await stateAt(sources, grain, tenantId, stream, point);
  if (grain !== (conversationGrain as unknown) || past.state === null)
    return { ...past, state: grain.codec.encode(past.state), timeline: undefined };
  const state = past.state as Conversation;
  return {
    ...past,
    state: conversationView(state, past.version) as unknown as JsonValue,
    timeline: timelineView(state, past.version, past.recorded).items as unknown as JsonValue,
  };
}

interface Inspected {
  readonly version: number;
  readonly fromSnapshot: number | null;
  readonly events: readonly HistoryEntry[];
  readonly state: JsonValue | undefined;
  readonly timeline: JsonValue | undefined;
}

/** Folds nothing: the event list of a stream no aggregate owns (a contact's, a board's). */
const eventsOnly: Grain<never, null, DomainEvent> = {
  category: 'events',
  decider: { decide: () => [], evolve: () => null, initialState: () => null },
  snapshotEvery: 0,
  snapshotRevision: 0,
  codec: { encode: () => null, decode: () => null },
  toTopics: () => [],
};

function grainOf(stream: StreamId): Grain<unknown, unknown, DomainEvent> | undefined {
  const grains: Record<string, unknown> = {
    [StreamCategory.conversation]: conversationGrain,
    [StreamCategory.inbox]: inboxGrain,
    [StreamCategory.workflow]: workflowGrain,
    [StreamCategory.card]: cardGrain,
  };
  return grains[streamCategory(stream)] as Grain<unknown, unknown, DomainEvent> | undefined;
}

/** `v3  2026-12-07T12:00:00.000Z  ConversationAssigned  by agent:ana` */
function formatEntry(entry: HistoryEntry): string {
  const actor = entry.actor;
  const who =
    typeof actor === 'object' && actor !== null && !Array.isArray(actor) && typeof actor.id === 'string'
      ? `${typeof actor.kind === 'string' ? `${actor.kind}:` : ''}${actor.id}`
      : actor === null
        ? '(no actor recorded)'
        : JSON.stringify(actor);
  return `v${entry.version}  ${entry.at}  ${entry.type}  by ${who}`;
}

/** The tenant of a stream id, when only one tenant has it (conversation ids are per tenant hashes). */
async function tenantOf(db: Database, stream: string, usage: (message: string) => Error): Promise<TenantId> {
  const rows = await db.sql.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM streams WHERE stream_id = $1 ORDER BY tenant_id',
    [stream],
  );
  if (rows.length === 0) throw new Error(`no tenant has a stream ${stream}`);
  if (rows.length > 1)
    throw usage(
      `${rows.length} tenants have a stream ${stream} (${rows.map((r) => r.tenant_id).join(', ')}): name one with --tenant`,
    );
  return rows[0]!.tenant_id as TenantId;
}
