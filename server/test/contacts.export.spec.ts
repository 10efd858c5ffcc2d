import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { tenantId, type StreamId } from '@parley/domain';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../src/auth/cookies';
import { runCli } from '../src/cli';
import { withAbsoluteOut } from '../src/contacts/cli';
import { contactStreamOf } from '../src/contacts/profile';
import { exportContact, EXPORT_FORMAT } from '../src/contacts/export';
import { ERASED } from '../src/crypto/event-codec';
import { API_BACKENDS, openApiHarness, serveHttp, type ApiHarness } from './api.support';
import { queueReply } from './support/queue-reply';

// A contact's data export (#18, decision 0030): a ZIP of their conversations' events opened, their
// notes and their media, with a manifest of SHA-256s; streamed, audited, for admins of the tenant.

const demo = tenantId('demo');
const PHONE = '4917612345111';
const NAME = 'Ingrid Export';
const TEXT = 'where is my parcel 77-1234?';
const CAPTION = 'the label on the box';
const REPLY = 'it leaves the depot today';
const NOTE = 'prefers mornings';
// A PNG by its first bytes (PL5), with a body big enough to arrive in several chunks.
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  Buffer.from('IHDR export test image'),
  Buffer.alloc(300_000, 7),
]);
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Manifest {
  format: string;
  tenant: string;
  contact: { id: string; name: string; conversations: string[] };
  exportedBy: string;
  generatedAt: string;
  counts: { conversations: number; events: number; notes: number; media: number };
  files: { path: string; bytes: number; sha256: string }[];
}

describe.each(API_BACKENDS)('exporting a contact on %s', (kind, enabled) => {
  let h: ApiHarness;
  let http: Awaited<ReturnType<typeof serveHttp>>;
  let base = '';
  const cookies: Record<'ada' | 'ana' | 'gus', string> = { ada: '', ana: '', gus: '' };
  const conversationId = 'export-me';
  let contactStream: StreamId;

  const post = (who: keyof typeof cookies | null, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/contacts/export`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(who ? { cookie: cookies[who] } : {}),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const unzip = async (response: Response) => unzipSync(new Uint8Array(await response.arrayBuffer()));
  const exportsRecorded = async () =>
    (await h.services.store.readStream(demo, contactStream)).filter((e) => e.type === 'ContactExported');

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    http = await serveHttp(h);
    base = http.url.replace(/\/trpc$/, '');
    for (const [who, email] of [
      ['ada', 'ada@demo.parley.test'],
      ['ana', 'ana@demo.parley.test'],
      ['gus', 'gus@globex.parley.test'],
    ] as const) {
      cookies[who] = `${SESSION_COOKIE}=${encodeURIComponent((await h.signIn(email)).cookie)}`;
    }
    const now = h.now();
    const stored = await h.services.attachments.upload(demo, Readable.from([PNG]), { name: 'label.png' });
    const inbound = (externalMessageId: string, content: unknown, sentAt: number) =>
      h.services.grains.conversation(demo, conversationId).ask({
        type: 'ReceiveInboundMessage',
        data: {
          conversationId,
          inboxId: 'support',
          platform: 'whatsapp',
          externalMessageId,
          contact: { id: PHONE, name: NAME, handle: `+${PHONE}` },
          content: content as never,
          sentAt,
        },
      });
    await inbound('wamid.export-1', { type: 'text', text: TEXT }, now - 60_000);
    await inbound(
      'wamid.export-2',
      {
        type: 'media',
        media: { kind: 'image', url: stored.url, mime: stored.mime, size: stored.size },
        caption: CAPTION,
      },
      now - 50_000,
    );
    await queueReply(h.services, demo, conversationId, {
      type: 'QueueReply',
      data: {
        clientMessageId: 'export-reply-1',
        agentId: 'ana',
        content: { type: 'text', text: REPLY },
        tag: null,
        now,
        templates: [],
      },
    });
    const ada = await h.signIn('ada@demo.parley.test');
    await ada.caller.contacts.addNote({ conversationId, noteId: 'export-note-1', text: NOTE });
    contactStream = (await contactStreamOf(h.services, demo, conversationId))!;
    await h.settle();
  });

  afterAll(async () => {
    if (!enabled) return;
    await http.stop();
    await h.dispose();
  });

  it.skipIf(!enabled)(
    '[18-EX1] an admin downloads a ZIP of the conversation opened, the notes, the media and a manifest of SHA-256s',
    async () => {
      const response = await post('ada', { conversationId });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/zip');
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="parley-demo-contact-/,
      );
      // Streamed: no length is known before the last byte is made.
      expect(response.headers.get('content-length')).toBeNull();
      const files = await unzip(response);
      const mediaPath = `media/${sha(PNG).slice(0, 16)}-label.png`;
      expect(Object.keys(files).sort()).toEqual(
        ['contact.json', `conversations/${conversationId}.json`, 'manifest.json', mediaPath].sort(),
      );
      expect(Buffer.from(files[mediaPath]!).equals(PNG)).toBe(true);

      const conversation = JSON.parse(strFromU8(files[`conversations/${conversationId}.json`]!)) as {
        platform: string;
        events: { type: string; at: string; actor: unknown; data: Record<string, unknown> }[];
      };
      expect(conversation.platform).toBe('whatsapp');
      const types = conversation.events.map((event) => event.type);
      expect(types).toEqual(
        expect.arrayContaining(['ConversationStarted', 'InboundMessageReceived', 'ReplyQueued']),
      );
      const text = JSON.stringify(conversation);
      for (const clear of [TEXT, CAPTION, REPLY, NAME, PHONE]) expect(text).toContain(clear);
      expect(text).not.toContain('$enc');
      const reply = conversation.events.find((event) => event.type === 'ReplyQueued')!;
      expect(reply.actor).toEqual({ kind: 'agent', id: 'ana' });
      expect(Date.parse(reply.at)).not.toBeNaN();

      const profile = JSON.parse(strFromU8(files['contact.json']!)) as {
        contact: { name: string; handle: string };
        notes: { text: string }[];
      };
      expect(profile.contact).toMatchObject({ name: NAME, handle: `+${PHONE}` });
      expect(profile.notes.map((note) => note.text)).toEqual([NOTE]);

      const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as Manifest;
      expect(manifest).toMatchObject({
        format: EXPORT_FORMAT,
        tenant: 'demo',
        exportedBy: 'ada',
        contact: { name: NAME, conversations: [conversationId] },
        counts: { conversations: 1, events: conversation.events.length, notes: 1, media: 1 },
      });
      expect(manifest.files.map((file) => file.path).sort()).toEqual(
        Object.keys(files)
          .filter((path) => path !== 'manifest.json')
          .sort(),
      );
      for (const file of manifest.files) {
        expect(file.sha256).toBe(sha(files[file.path]!));
        expect(file.bytes).toBe(files[file.path]!.length);
      }
    },
  );

  it.skipIf(!enabled)(
    '[18-EX2] each export is recorded on the contact as ContactExported (who, which conversations, when), without personal data',
    async () => {
      const before = (await exportsRecorded()).length;
      const response = await post('ada', { contactId: PHONE });
      expect(response.status).toBe(200);
      expect(Object.keys(await unzip(response))).toContain(`conversations/${conversationId}.json`);
      const recorded = await exportsRecorded();
      expect(recorded).toHaveLength(before + 1);
      expect(recorded.at(-1)!.data).toMatchObject({ exportedBy: 'ada', conversations: [conversationId] });
      expect(JSON.stringify(recorded.at(-1))).not.toContain(PHONE);
    },
  );

  it.skipIf(!enabled)(
    "[18-EX3] another tenant's admin, an agent, no session, another site and a bad body are refused, and nothing is recorded",
    async () => {
      const before = (await exportsRecorded()).length;
      const gus = await post('gus', { conversationId });
      expect(gus.status).toBe(404);
      expect(await gus.json()).toMatchObject({ code: 'NOT_FOUND' });
      expect((await post('gus', { contactId: PHONE })).status).toBe(404);
      expect((await post('ada', { conversationId: 'nobody-here' })).status).toBe(404);
      const ana = await post('ana', { conversationId });
      expect(ana.status).toBe(403);
      expect(await ana.json()).toMatchObject({ code: 'FORBIDDEN' });
      expect((await post(null, { conversationId })).status).toBe(401);
      expect((await post('ada', { conversationId, contactId: PHONE })).status).toBe(400);
      expect((await post('ada', { conversationId: '../etc' })).status).toBe(400);
      expect((await post('ada', { conversationId }, { origin: 'https://evil.example' })).status).toBe(403);
      expect((await fetch(`${base}/api/contacts/export`, { headers: { cookie: cookies.ada } })).status).toBe(
        405,
      );
      expect(await exportsRecorded()).toHaveLength(before);
    },
  );

  it.skipIf(!enabled)(
    '[18-EX4] the ZIP streams: its first bytes leave before the media file is read to its end',
    async () => {
      const events: string[] = [];
      const exported = await exportContact(
        {
          store: h.services.store,
          keys: h.services.keys,
          attachments: {
            find: (tenant, hash) => h.services.attachments.find(tenant, hash),
            async open(tenant, hash) {
              const opened = await h.services.attachments.open(tenant, hash);
              if (!opened) return null;
              const body = opened.body;
              async function* watched() {
                for await (const chunk of body as AsyncIterable<Buffer>) {
                  events.push('media chunk');
                  yield chunk;
                }
                events.push('media end');
              }
              return { attachment: opened.attachment, body: Readable.from(watched()) };
            },
          },
        },
        { tenantId: demo, contact: { conversationId }, exportedBy: 'test', at: h.now() },
      );
      const progress: string[] = [];
      const chunks: Uint8Array[] = [];
      for await (const chunk of exported.zip((p) => progress.push(`${p.done}/${p.total} ${p.path}`))) {
        events.push('zip chunk');
        chunks.push(chunk);
      }
      const firstZip = events.indexOf('zip chunk');
      expect(firstZip).toBeGreaterThanOrEqual(0);
      expect(firstZip).toBeLessThan(events.indexOf('media end'));
      // Media bytes were handed on while the file was still being read.
      expect(events.slice(events.indexOf('media chunk'), events.indexOf('media end'))).toContain('zip chunk');
      expect(progress.at(-1)).toBe('4/4 manifest.json');
      const files = unzipSync(Buffer.concat(chunks));
      expect(Object.keys(files)).toHaveLength(4);
    },
  );

  it.skipIf(!enabled)(
    '[18-EX5] an erased contact exports as "[erased]", without an error and without their media',
    async () => {
      const erasedId = 'export-erased';
      await h.services.grains.conversation(demo, erasedId).ask({
        type: 'ReceiveInboundMessage',
        data: {
          conversationId: erasedId,
          inboxId: 'support',
          platform: 'whatsapp',
          externalMessageId: 'wamid.export-erased-1',
          contact: { id: '4917600000999', name: 'Gone Person', handle: '+4917600000999' },
          content: { type: 'text', text: 'forget me please' },
          sentAt: h.now(),
        },
      });
      const ada = await h.signIn('ada@demo.parley.test');
      await ada.caller.contacts.erase({ conversationId: erasedId, reason: 'GDPR art. 17 request' });
      const response = await post('ada', { conversationId: erasedId });
      expect(response.status).toBe(200);
      const files = await unzip(response);
      const text = strFromU8(files[`conversations/${erasedId}.json`]!);
      expect(text).toContain(ERASED);
      expect(text).not.toContain('forget me please');
      expect(text).not.toContain('Gone Person');
      const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as Manifest;
      expect(manifest.contact.name).toBe(ERASED);
      expect(manifest.counts.media).toBe(0);
      const profile = JSON.parse(strFromU8(files['contact.json']!)) as { erasures: { reason: string }[] };
      expect(profile.erasures.map((erasure) => erasure.reason)).toEqual(['GDPR art. 17 request']);
    },
  );

  it.skipIf(!enabled)(
    '[18-EX6] the CLI writes the same ZIP to --out, prints progress and records the export as cli:<user>',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-export-'));
      try {
        const out = join(dir, 'ingrid.zip');
        const lines: string[] = [];
        const host = { dataDir: h.services.config.dataDir, env: {} };
        await runCli(
          ['contacts', 'export', '--tenant', 'demo', '--conversation', conversationId, '--out', out],
          (line) => lines.push(line),
          { ...host, withDb: (fn) => fn(h.services.db) },
        );
        expect(lines.join('\n')).toMatch(/1\/4 conversations\/export-me\.json/);
        expect(lines.at(-1)).toMatch(
          /^exported 1 conversation\(s\) to .*ingrid\.zip \(\d+ bytes\); recorded on contact-/,
        );
        const files = unzipSync(readFileSync(out));
        const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as Manifest;
        expect(manifest.exportedBy).toMatch(/^cli:/);
        expect(manifest.files).toHaveLength(3);
        expect(existsSync(`${out}.part`)).toBe(false);
        // Read from the table: the CLI's own store appended it, this process's hot tier has not seen it.
        const [last] = await h.services.db.sql.query<{ type: string; data: unknown }>(
          `SELECT type, data FROM events WHERE tenant_id = 'demo' AND stream_id = $1 ORDER BY version DESC LIMIT 1`,
          [contactStream],
        );
        expect(last).toMatchObject({ type: 'ContactExported' });
        const data = typeof last!.data === 'string' ? (JSON.parse(last!.data) as object) : last!.data;
        expect(data).toMatchObject({ exportedBy: manifest.exportedBy, conversations: [conversationId] });
        // Another tenant's conversation: refused, and no file is left behind.
        await expect(
          runCli(
            [
              'contacts',
              'export',
              '--tenant',
              'globex',
              '--conversation',
              conversationId,
              '--out',
              join(dir, 'x.zip'),
            ],
            () => undefined,
            { ...host, withDb: (fn) => fn(h.services.db) },
          ),
        ).rejects.toThrow(/no such contact/);
        expect(existsSync(join(dir, 'x.zip'))).toBe(false);
        await expect(
          runCli(['contacts', 'export', '--tenant', 'demo', '--out', out], () => undefined, {
            ...host,
            withDb: (fn) => fn(h.services.db),
          }),
        ).rejects.toThrow(/usage: contacts export/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('a command sent to the running server names its --out file by an absolute path', () => {
    expect(withAbsoluteOut(['contacts', 'export', '--out', 'a.zip', '--tenant', 'demo'])).toEqual([
      'contacts',
      'export',
      '--out',
      resolve('a.zip'),
      '--tenant',
      'demo',
    ]);
    expect(withAbsoluteOut(['--out=b.zip'])).toEqual([`--out=${resolve('b.zip')}`]);
  });
});
