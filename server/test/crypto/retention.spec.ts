import { join } from 'node:path';
import {
  conversation,
  fold,
  isPeriodPastRetention,
  lastPeriodPastRetention,
  retentionPeriodOf,
  streamId,
  tenantId,
  type ConversationCommand,
  type ConversationEvent,
  type JsonObject,
  type TenantId,
} from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli';
import { createEventCodec, ERASED, sealingKeyId } from '../../src/crypto/event-codec';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring } from '../../src/crypto/master-key';
import { SETTINGS_STREAM, setRetention, sweepRetention, tenantSettingsOf } from '../../src/crypto/retention';
import { dumpAnalytics, rebuildAnalytics } from '../../src/projections/analytics';
import { SqlEventStore } from '../../src/store/sql-store';
import { BACKENDS, dumpAllTables, encryptedStore } from './support';

const DAY = 86_400_000;
const demo = tenantId('demo');
const globex = tenantId('globex');
const NAME = 'Rita Retained';
const PHONE = '+4915112340000';
const contact = { id: PHONE.slice(1), name: NAME, handle: PHONE };

/** A customer message, a reply and a note every two weeks for 150 days, the last a day ago. */
const END = Date.now();
const TIMES = [...Array.from({ length: 11 }, (_, i) => END - 150 * DAY + i * 14 * DAY), END - DAY];
const said = (i: number) => `customer message ${i} about order 55-${i}0${i}`;
const replied = (i: number) => `agent reply ${i} re order 55-${i}0${i}`;
const noted = (i: number) => `note ${i}: called back re 55-${i}0${i}`;

describe.each(BACKENDS)('retention by period keys on %s', (_name, create, enabled) => {
  let h: Awaited<ReturnType<typeof encryptedStore>>;
  let now = TIMES[0]!;
  const conversationId = 'wa_retained';
  const stream = streamId(`conversation-${conversationId}`);

  /** Decides a command on the conversation's events and appends them at the clock's time. */
  async function run(tenant: TenantId, command: ConversationCommand): Promise<void> {
    const recorded = await h.store.readStream(tenant, stream);
    const state = fold(
      conversation,
      conversation.initialState(),
      recorded.map((e) => ({ type: e.type, data: e.data }) as ConversationEvent),
    );
    const events = conversation.decide(command, state);
    await h.store.append(
      tenant,
      stream,
      events.map((e) => ({ type: e.type, data: e.data })),
      { expectedVersion: recorded.length === 0 ? 'no_stream' : recorded.length },
    );
  }

  async function converse(tenant: TenantId, i: number, at: number) {
    now = at;
    await run(tenant, {
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `wamid.${i}`,
        contact,
        content: { type: 'text', text: said(i) },
        sentAt: at,
      },
    });
    now = at + 60_000;
    await run(tenant, {
      type: 'QueueReply',
      data: {
        clientMessageId: `reply-${i}`,
        agentId: 'ana',
        content: { type: 'text', text: replied(i) },
        tag: null,
        now,
        templates: [],
      },
    });
    await run(tenant, {
      type: 'AddNote',
      data: { noteId: `note-${i}`, agentId: 'ana', text: noted(i), mentions: [], at: now },
    });
  }

  const expired = (at: number) => isPeriodPastRetention(retentionPeriodOf(at), 90, END);
  const oldTexts = TIMES.flatMap((at, i) => (expired(at) ? [said(i), replied(i), noted(i)] : []));
  const countsOf = async (tenant: TenantId) =>
    h.test.db.sql.query<{ type: string; n: number }>(
      'SELECT type, count(*)::int AS n FROM events WHERE tenant_id = $1 GROUP BY type ORDER BY type',
      [tenant],
    );

  beforeAll(async () => {
    if (!enabled) return;
    h = await encryptedStore(create, () => now);
    for (const [i, at] of TIMES.entries()) await converse(demo, i, at);
    await converse(globex, 0, TIMES[0]!); // another tenant's old message, kept for ever
    now = END;
  });

  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[18-RT1] seals message content under a key per week, and who the contact is under the conversation key',
    async () => {
      // The scenario spans weeks on both sides of a 90-day limit.
      expect(TIMES.filter(expired).length).toBeGreaterThan(2);
      expect(TIMES.filter((at) => !expired(at)).length).toBeGreaterThan(2);
      const keys = await h.test.db.sql.query<{ period: string | null }>(
        `SELECT to_char(period, 'YYYY-MM-DD') AS period FROM contact_keys WHERE tenant_id = 'demo' ORDER BY period NULLS FIRST`,
      );
      expect(keys.map((k) => k.period)).toEqual([null, ...new Set(TIMES.map(retentionPeriodOf))]);
      const [started, message] = await h.test.db.sql.query<{ data: JsonObject }>(
        `SELECT data FROM events WHERE tenant_id = 'demo' AND stream_id = $1 AND version <= 3 AND type <> 'CycleStarted' ORDER BY version`,
        [stream],
      );
      const keyOf = (value: unknown) => {
        const id = sealingKeyId(value);
        expect(id).toMatch(/^[0-9a-f-]{36}$/); // sealed, naming its key
        return id;
      };
      expect(keyOf(message!.data.contact)).toBe(keyOf(started!.data.contact));
      expect(keyOf(message!.data.content)).not.toBe(keyOf(message!.data.contact));
      // Nothing is in clear, before any sweep too.
      const dump = await dumpAllTables(h.test.db);
      expect([NAME, PHONE, ...oldTexts].filter((secret) => dump.includes(secret))).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    '[18-RT2] a sweep at 90 days erases the content of the weeks past it and nothing else; counts and reports stay',
    async () => {
      expect(await sweepRetention({ db: h.test.db, store: h.store, keys: h.keys }, demo, END)).toMatchObject({
        days: null,
        keysDestroyed: 0,
      });
      await setRetention(
        h.store,
        demo,
        { days: 90, changedBy: 'ada', at: END },
        { actor: { kind: 'agent', id: 'ada' } },
      );
      expect((await tenantSettingsOf(h.store, demo)).state.retentionDays).toBe(90);
      const countsBefore = await countsOf(demo);
      const eventsBefore = await h.store.readStream(demo, stream);
      await rebuildAnalytics({ store: h.store, db: h.test.db, tenantId: demo });
      const reportsBefore = await dumpAnalytics(h.test.db, demo);
      // Reports have numbers to keep: messages in and out on each day of the scenario.
      expect(reportsBefore.analytics_daily.length).toBeGreaterThan(TIMES.length);
      expect(JSON.stringify(reportsBefore.analytics_conversations)).toContain('"messagesIn":12');

      // A second process reading the same database caches the old weeks' keys.
      const otherKeys = new KeyStore(h.test.db.sql, loadMasterKeyring({}, h.keyDir));
      const other = await SqlEventStore.open({
        db: h.test.db,
        archiveDir: join(h.test.dataDir, 'archive'),
        codec: createEventCodec(otherKeys, { clock: () => now }),
      });
      expect(JSON.stringify(await other.readStream(demo, stream))).toContain(said(0));

      // Clear copies outside the log: a grain snapshot, and indexed words of an old and a recent message.
      await h.test.db.sql.query(
        `INSERT INTO snapshots (tenant_id, stream_id, version, state) VALUES ('demo', $1, 3, '{}'), ('globex', $1, 3, '{}')`,
        [stream],
      );
      await h.test.db.sql.query(
        `INSERT INTO search_messages (tenant_id, conversation_id, version, kind, at, words)
         VALUES ('demo', $1, 3, 'customer', $2, to_tsvector('simple', 'old')),
                ('demo', $1, 90, 'customer', $3, to_tsvector('simple', 'recent'))`,
        [conversationId, new Date(TIMES[0]!), new Date(END - DAY)],
      );

      const through = lastPeriodPastRetention(90, END);
      const result = await sweepRetention({ db: h.test.db, store: h.store, keys: h.keys }, demo, END);
      const expiredWeeks = new Set(TIMES.filter(expired).map(retentionPeriodOf));
      expect(result).toEqual({
        tenantId: demo,
        days: 90,
        through,
        keysDestroyed: expiredWeeks.size,
        conversations: 1,
      });

      // What reads say now: old content erased, recent content and the contact's name clear.
      const events = await h.store.readStream(demo, stream);
      expect(events.map((e) => [e.eventId, e.type, e.version, e.recordedAt])).toEqual(
        eventsBefore.map((e) => [e.eventId, e.type, e.version, e.recordedAt]),
      );
      const text = (type: string, field: 'content' | 'text') =>
        events
          .filter((e) => e.type === type)
          .map((e) => (field === 'text' ? e.data.text : (e.data.content as { text: string }).text));
      expect(text('InboundMessageReceived', 'content')).toEqual(
        TIMES.map((at, i) => (expired(at) ? ERASED : said(i))),
      );
      expect(text('ReplyQueued', 'content')).toEqual(
        TIMES.map((at, i) => (expired(at) ? ERASED : replied(i))),
      );
      expect(text('NoteAdded', 'text')).toEqual(TIMES.map((at, i) => (expired(at) ? ERASED : noted(i))));
      for (const event of events.filter((e) => e.data.contact !== undefined))
        expect(event.data.contact).toEqual(contact);

      // Nothing rewritten: same events, same counts, same reports rebuilt from the log.
      expect(await countsOf(demo)).toEqual(countsBefore);
      await rebuildAnalytics({ store: h.store, db: h.test.db, tenantId: demo });
      expect(await dumpAnalytics(h.test.db, demo)).toEqual(reportsBefore);

      // The old weeks' key rows keep no key; the recent weeks' and the conversation's are live.
      const keys = await h.test.db.sql.query<{ period: string | null; iv: string | null; ct: string | null }>(
        `SELECT to_char(period, 'YYYY-MM-DD') AS period, iv, ct FROM contact_keys WHERE tenant_id = 'demo'`,
      );
      for (const key of keys) {
        const gone = key.period !== null && key.period <= through;
        expect({ period: key.period, iv: key.iv === null, ct: key.ct === null }).toEqual({
          period: key.period,
          iv: gone,
          ct: gone,
        });
      }
      const dump = await dumpAllTables(h.test.db);
      expect([NAME, PHONE, ...oldTexts].filter((secret) => dump.includes(secret))).toEqual([]);
      // The snapshot folded old content: gone (the next load folds the log); another tenant's stays.
      expect(await h.test.db.sql.query('SELECT tenant_id FROM snapshots')).toEqual([{ tenant_id: 'globex' }]);
      expect(await h.test.db.sql.query('SELECT version FROM search_messages')).toEqual([{ version: 90 }]);

      // The second process's own sweep drops the keys the first destroyed, and what it held in clear.
      try {
        expect(
          await sweepRetention({ db: h.test.db, store: other, keys: otherKeys }, demo, END),
        ).toMatchObject({ keysDestroyed: 0, conversations: 1 });
        const theirs = JSON.stringify(await other.readStream(demo, stream));
        expect(oldTexts.filter((text) => theirs.includes(text))).toEqual([]);
        expect(theirs).toContain(said(TIMES.length - 1));
      } finally {
        await other.close();
      }
    },
  );

  it.skipIf(!enabled)(
    '[18-RT3] another tenant keeps its content; a second sweep (by the CLI) destroys nothing more',
    async () => {
      const theirs = await h.store.readStream(globex, stream);
      expect(theirs.find((e) => e.type === 'InboundMessageReceived')!.data.content).toEqual({
        type: 'text',
        text: said(0),
      });
      expect(
        await sweepRetention({ db: h.test.db, store: h.store, keys: h.keys }, globex, END),
      ).toMatchObject({
        days: null,
        keysDestroyed: 0,
      });
      const lines: string[] = [];
      await runCli(['retention', 'sweep', '--tenant', 'demo'], (line) => lines.push(line), {
        dataDir: h.keyDir, // where the test's master key file is
        env: {},
        withDb: (fn) => fn(h.test.db),
      });
      expect(lines).toEqual([expect.stringMatching(/^demo keeps message content 90 day\(s\): 0 key\(s\)/)]);
      await expect(
        runCli(['retention', 'sweep'], () => undefined, {
          dataDir: h.keyDir,
          env: {},
          withDb: (fn) => fn(h.test.db),
        }),
      ).rejects.toThrow(/usage: retention sweep --tenant/);
      // A late message whose platform time is long past the limit is sealed in this week: readable.
      now = END;
      await run(demo, {
        type: 'ReceiveInboundMessage',
        data: {
          conversationId,
          inboxId: 'support',
          platform: 'whatsapp',
          externalMessageId: 'wamid.late',
          contact,
          content: { type: 'text', text: 'a late one' },
          sentAt: TIMES[0]!,
        },
      });
      const [late] = await h.store.readStream(demo, stream, {
        fromVersion: await h.store.streamVersion(demo, stream),
      });
      expect(late!.data.content).toEqual({ type: 'text', text: 'a late one' });
      // The change is in the audit trail, with who made it.
      const [set] = await h.store.readStream(demo, SETTINGS_STREAM);
      expect(set).toMatchObject({
        type: 'RetentionSet',
        data: { days: 90, previous: null, changedBy: 'ada' },
        metadata: { actor: { kind: 'agent', id: 'ada' } },
      });
    },
  );
});
