import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { streamFor, tenantId, type ClientCommand } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttachments } from '../src/attachments';
import { withTenant } from '../src/auth/tenant-scope';
import { API_BACKENDS, type ApiHarness, type Caller } from './api.support';
import { openHttpHarness, type HttpHarness } from './support/http-sessions';

// The attachment routes (#15 item 9, decision 0027): uploads read under a size limit, typed by
// their bytes (PL5), stored per tenant by content hash, and served only to that tenant.

const MAX = 200_000;
process.env.PARLEY_ATTACHMENT_MAX_BYTES = String(MAX);

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  Buffer.from('IHDR parley test image'),
]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n');
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const demo = tenantId('demo');

describe.each(API_BACKENDS)('attachments over HTTP on %s', (kind, enabled) => {
  let served: HttpHarness;
  let h: ApiHarness;
  let base = '';
  let ana = '';
  let gus = '';
  let anaCaller: Caller;
  let conversations = 0;

  beforeAll(async () => {
    if (!enabled) return;
    served = await openHttpHarness(kind);
    ({ h, base } = served);
    ({ caller: anaCaller, cookie: ana } = await served.session('ana@demo.parley.test'));
    gus = (await served.session('gus@globex.parley.test')).cookie;
  });
  afterAll(async () => {
    if (!enabled) return;
    await served.dispose();
  });

  const upload = (
    cookie: string,
    body: Buffer | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${base}/api/attachments`, {
      method: 'POST',
      headers: { cookie, 'x-file-name': 'photo.pdf', 'content-type': 'application/pdf', ...headers },
      body,
      duplex: 'half',
    } satisfies RequestInit & { duplex: 'half' });
  const put = (cookie: string, hash: string, body: Buffer) =>
    fetch(`${base}/api/attachments/${hash}`, { method: 'PUT', headers: { cookie }, body });
  const rows = (tenant: string) =>
    withTenant(h.services.db.sql, tenantId(tenant), (tx) =>
      tx.query<{ sha256: string; mime: string; size: string }>('SELECT sha256, mime, size FROM attachments'),
    );
  const incoming = () => readdirSync(join(h.services.config.dataDir, 'attachments', '.incoming'));

  it.skipIf(!enabled)(
    '[PL5] types an upload by its bytes, not its name or claimed type, and serves it back',
    async () => {
      const response = await upload(ana, PNG);
      expect(response.status).toBe(201);
      const stored = (await response.json()) as { sha256: string; mime: string; kind: string; url: string };
      expect(stored).toMatchObject({
        sha256: sha(PNG),
        mime: 'image/png',
        kind: 'image',
        url: `attachment:${sha(PNG)}`,
      });
      const download = await fetch(`${base}/api/attachments/${sha(PNG)}`, { headers: { cookie: ana } });
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
      expect(download.headers.get('content-type')).toBe('image/png');
      expect(download.headers.get('content-disposition')).toMatch(/^inline;/);
      expect(download.headers.get('x-content-type-options')).toBe('nosniff');
      expect(download.headers.get('content-security-policy')).toContain('sandbox');
    },
  );

  it.skipIf(!enabled)('serves a document as a download, never inline', async () => {
    const stored = (await (
      await upload(ana, PDF, { 'x-file-name': encodeURIComponent('Factura nº 7.pdf') })
    ).json()) as {
      sha256: string;
    };
    const download = await fetch(`${base}/api/attachments/${stored.sha256}`, { headers: { cookie: ana } });
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('Factura nº 7.pdf')}`,
    );
  });

  it.skipIf(!enabled)(
    '[PL5] refuses a file whose bytes are no type Parley sends, and keeps nothing of it',
    async () => {
      const before = await rows('demo');
      const response = await upload(ana, ELF, { 'content-type': 'image/png', 'x-file-name': 'cat.png' });
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ code: 'ATTACHMENT_TYPE_UNKNOWN' });
      expect(await rows('demo')).toEqual(before);
      expect(incoming()).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    'refuses a body over the limit while it streams, without a Content-Length, and keeps nothing',
    async () => {
      const before = await rows('demo');
      const chunk = new Uint8Array(50_000).fill(0x41);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += chunk.length;
          if (sent > 2 * MAX) controller.close();
          else controller.enqueue(chunk);
        },
      });
      const response = await upload(ana, body).catch((error: unknown) => error);
      // The server may answer 413 and close before the client finished sending.
      if (response instanceof Response) {
        expect(response.status).toBe(413);
        expect(await response.json()).toMatchObject({ code: 'ATTACHMENT_TOO_LARGE' });
      }
      expect(await rows('demo')).toEqual(before);
      expect(incoming()).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    'refuses a declared Content-Length over the limit before reading the body',
    async () => {
      const response = await upload(ana, Buffer.alloc(MAX + 1, 0x41));
      expect(response.status).toBe(413);
    },
  );

  it.skipIf(!enabled)(
    'an upload by hash is idempotent: the same bytes twice are one file, a wrong hash is refused',
    async () => {
      const text = Buffer.from(`order notes ${Date.now()}\n`);
      const first = await put(ana, sha(text), text);
      expect(first.status).toBe(201);
      const again = await put(ana, sha(text), text);
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ sha256: sha(text), mime: 'text/plain', size: text.length });
      expect((await rows('demo')).filter((row) => row.sha256 === sha(text))).toHaveLength(1);
      const wrong = await put(ana, 'f'.repeat(64), text);
      expect(wrong.status).toBe(400);
      expect(await wrong.json()).toMatchObject({ code: 'ATTACHMENT_HASH_MISMATCH' });
      expect((await rows('demo')).some((row) => row.sha256 === 'f'.repeat(64))).toBe(false);
    },
  );

  it.skipIf(!enabled)(
    "refuses another tenant's file, and a download or upload without a session",
    async () => {
      const secret = Buffer.concat([PDF, Buffer.from(`globex only ${Date.now()}`)]);
      expect((await upload(gus, secret)).status).toBe(201);
      const asAna = await fetch(`${base}/api/attachments/${sha(secret)}`, { headers: { cookie: ana } });
      expect(asAna.status).toBe(404);
      const asGus = await fetch(`${base}/api/attachments/${sha(secret)}`, { headers: { cookie: gus } });
      expect(asGus.status).toBe(200);
      expect((await fetch(`${base}/api/attachments/${sha(secret)}`)).status).toBe(401);
      expect((await upload('', PNG)).status).toBe(401);
      // An upload by hash of globex's file does not reveal it to demo: demo must send the bytes.
      const byHash = await fetch(`${base}/api/attachments/${sha(secret)}`, {
        method: 'PUT',
        headers: { cookie: ana },
        body: PNG,
      });
      expect(byHash.status).toBe(400);
      expect((await rows('demo')).some((row) => row.sha256 === sha(secret))).toBe(false);
    },
  );

  it.skipIf(!enabled)('refuses an upload posted by another site', async () => {
    const response = await upload(ana, PNG, { origin: 'https://evil.example' });
    expect(response.status).toBe(403);
  });

  it.skipIf(!enabled)(
    'serves a signed link without a session, and refuses a tampered or foreign one',
    async () => {
      const path = h.services.attachments.linkPath('demo', sha(PNG));
      const linked = await fetch(`${base}${path}`);
      expect(linked.status).toBe(200);
      expect(Buffer.from(await linked.arrayBuffer()).equals(PNG)).toBe(true);
      expect((await fetch(`${base}${path.replace('/demo/', '/globex/')}`)).status).toBe(403);
      const sig = new URL(`${base}${path}`).searchParams.get('sig')!;
      const tampered = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      expect((await fetch(`${base}${path.replace(sig, tampered)}`)).status).toBe(403);
    },
  );

  /** A fresh web-chat conversation (no window) with one customer message. */
  async function conversation(): Promise<string> {
    const id = `att-${++conversations}`;
    await h.services.grains.conversation(demo, id).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: id,
        inboxId: 'support',
        platform: 'webchat',
        externalMessageId: `${id}-m1`,
        contact: { id: `${id}-c`, name: 'Sam', handle: 'visitor' },
        content: { type: 'text', text: 'here?' },
        sentAt: h.now() - 1000,
      },
    });
    return id;
  }
  const mediaReply = (id: string, hash: string, size: number, mime = 'image/png'): ClientCommand => ({
    type: 'QueueReply',
    clientMessageId: id,
    content: {
      type: 'media',
      media: { kind: 'image', url: `attachment:${hash}`, mime, size },
      caption: 'your label',
    },
    tag: null,
  });
  let sequence = 0;
  const send = (conversationId: string, command: ClientCommand) =>
    anaCaller.conversations.commandBatch({
      clientId: 'attachments-spec',
      commands: [{ sequence: ++sequence, conversationId, command }],
    });

  it.skipIf(!enabled)(
    'a reply carries a file this tenant uploaded, with the type and size read from its bytes',
    async () => {
      const id = await conversation();
      const { answers } = await send(id, mediaReply('att-r1', sha(PNG), PNG.length));
      expect(answers[0]).toMatchObject({ status: 'accepted' });
      const events = await h.services.store.readStream(demo, streamFor('conversation', id));
      expect(events.find((event) => event.type === 'ReplyQueued')?.data).toMatchObject({
        content: { type: 'media', media: { url: `attachment:${sha(PNG)}`, mime: 'image/png' } },
      });
    },
  );

  it.skipIf(!enabled)(
    "refuses a reply naming another tenant's file, or a file with another type or size",
    async () => {
      const id = await conversation();
      const globexOnly = Buffer.concat([PNG, Buffer.from(`globex ${Date.now()}`)]);
      expect((await upload(gus, globexOnly)).status).toBe(201);
      const foreign = await send(id, mediaReply('att-r2', sha(globexOnly), globexOnly.length));
      expect(foreign.answers[0]).toMatchObject({ status: 'refused', code: 'ATTACHMENT_NOT_FOUND' });
      const lied = await send(id, mediaReply('att-r3', sha(PNG), 10));
      expect(lied.answers[0]).toMatchObject({ status: 'refused', code: 'ATTACHMENT_MISMATCH' });
      const events = await h.services.store.readStream(demo, streamFor('conversation', id));
      expect(events.filter((event) => event.type === 'ReplyQueued')).toEqual([]);
    },
  );
});

describe('signed links', () => {
  it('expire after their time', () => {
    let now = Date.UTC(2026, 11, 7);
    const attachments = createAttachments({
      sql: undefined as never,
      store: {
        kind: 'disk',
        put: () => Promise.resolve(),
        get: () => Promise.resolve(Readable.from([])),
        has: () => Promise.resolve(true),
        delete: () => Promise.resolve(),
      },
      incomingDir: '/nonexistent',
      linkKey: Buffer.alloc(32, 7),
      clock: () => now,
    });
    const hash = 'a'.repeat(64);
    const url = new URL(`http://x${attachments.linkPath('demo', hash)}`);
    const check = () =>
      attachments.verifyLink('demo', hash, url.searchParams.get('expires')!, url.searchParams.get('sig')!);
    expect(check()).toBe(true);
    now += 59 * 60_000;
    expect(check()).toBe(true);
    now += 2 * 60_000;
    expect(check()).toBe(false);
  });
});
