import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantId, type ReplyContent } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SHA256, s3BlobStore, signS3 } from '../src/attachments/s3';
import { createSenders, type Senders } from '../src/channels/outbound/senders';
import { withMediaLinks } from '../src/channels/outbound/senders/media-links';
import {
  startPlatformSimulator,
  type PlatformSimulator,
} from '../src/channels/simulators/platform-simulator';
import type { ChannelRecord } from '../src/channels/types';
import { inboundMediaFetcher } from '../src/channels/inbound/media-fetch';
import { SAMPLE_PNG } from '../src/channels/simulators/media-shapes';
import { createLogger } from '../src/logger';

// How an agent's file reaches a customer (#15 item 9, decision 0027): the S3 store's signed
// requests, and each platform's documented media message, accepted by the simulators, which fetch
// the signed link as the platform would.

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('a jpeg for the customer')]);
const HASH = createHash('sha256').update(JPEG).digest('hex');
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('Signature Version 4', () => {
  it("signs AWS's published example request (GET /test.txt with a Range) to its published signature", () => {
    const headers = signS3({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: { range: 'bytes=0-9' },
      payloadSha256: EMPTY_SHA256,
      region: 'us-east-1',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      now: Date.UTC(2013, 4, 24),
    });
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

describe('the S3 store against a local stub bucket', () => {
  const objects = new Map<string, Buffer>();
  const refused: string[] = [];
  const credentials = { region: 'eu-west-1', accessKeyId: 'PARLEYTEST', secretAccessKey: 'stub-secret' };
  let endpoint = '';
  // The stub checks what a real bucket checks: the signature over the request it got, and the
  // payload against its declared SHA-256.
  const stub = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url!, endpoint);
      const signedNames =
        /SignedHeaders=([^,]+)/.exec(req.headers.authorization ?? '')?.[1]?.split(';') ?? [];
      const date = String(req.headers['x-amz-date']);
      const expected = signS3({
        method: req.method!,
        url,
        headers: Object.fromEntries(
          signedNames
            .filter((name) => !['host', 'x-amz-date', 'x-amz-content-sha256'].includes(name))
            .map((name) => [name, String(req.headers[name])]),
        ),
        payloadSha256: String(req.headers['x-amz-content-sha256']),
        ...credentials,
        now: Date.parse(
          `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
        ),
      });
      if (expected.authorization !== req.headers.authorization) {
        refused.push(`${req.method} signature`);
        res.writeHead(403).end('SignatureDoesNotMatch');
        return;
      }
      if (req.method === 'PUT') {
        if (sha(body) !== req.headers['x-amz-content-sha256']) {
          refused.push('PUT digest');
          res.writeHead(400).end('XAmzContentSHA256Mismatch');
          return;
        }
        objects.set(url.pathname, body);
        res.writeHead(200).end();
        return;
      }
      if (req.method === 'DELETE') {
        // DeleteObject: 204 whether or not the key held an object.
        objects.delete(url.pathname);
        res.writeHead(204).end();
        return;
      }
      const object = objects.get(url.pathname);
      if (!object) return void res.writeHead(404).end('NoSuchKey');
      res.writeHead(200, { 'content-length': String(object.length) });
      res.end(req.method === 'HEAD' ? undefined : object);
    });
  });
  beforeAll(async () => {
    endpoint = await listen(stub);
  });
  afterAll(() => close(stub));

  it('puts a file with a signed PUT carrying its SHA-256, and reads it back with a signed GET', async () => {
    const store = s3BlobStore({ endpoint, bucket: 'parley-files', ...credentials });
    const dir = mkdtempSync(join(tmpdir(), 'parley-s3-'));
    writeFileSync(join(dir, 'upload'), JPEG);
    const key = `demo/${HASH.slice(0, 2)}/${HASH}`;
    expect(await store.has(key)).toBe(false);
    await store.put(key, join(dir, 'upload'), JPEG.length, HASH);
    expect(objects.get(`/parley-files/${key}`)?.equals(JPEG)).toBe(true);
    expect(await store.has(key)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.get(key))!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(JPEG)).toBe(true);
    expect(await store.get(`demo/00/${'0'.repeat(64)}`)).toBeNull();
    expect(refused).toEqual([]);
  });

  it("deletes a file with a signed DELETE (an erased contact's file); deleting it again is no error", async () => {
    const store = s3BlobStore({ endpoint, bucket: 'parley-files', ...credentials });
    const dir = mkdtempSync(join(tmpdir(), 'parley-s3-'));
    writeFileSync(join(dir, 'upload'), JPEG);
    const key = `demo/${HASH.slice(0, 2)}/${HASH}`;
    const other = `globex/${HASH.slice(0, 2)}/${HASH}`;
    await store.put(key, join(dir, 'upload'), JPEG.length, HASH);
    await store.put(other, join(dir, 'upload'), JPEG.length, HASH);
    await store.delete(key);
    expect(objects.has(`/parley-files/${key}`)).toBe(false);
    expect(await store.has(key)).toBe(false);
    expect(await store.get(key)).toBeNull();
    await store.delete(key);
    expect(await store.has(other)).toBe(true); // the same bytes of another tenant are another object
    expect(refused).toEqual([]);
    const wrong = s3BlobStore({ endpoint, bucket: 'parley-files', ...credentials, secretAccessKey: 'wrong' });
    await expect(wrong.delete(other)).rejects.toThrow(/answered 403/);
    expect(objects.has(`/parley-files/${other}`)).toBe(true);
  });

  it('fails loudly when the bucket refuses the signature', async () => {
    const store = s3BlobStore({ endpoint, bucket: 'parley-files', ...credentials, secretAccessKey: 'wrong' });
    await expect(store.has('demo/aa/x')).rejects.toThrow(/answered 403/);
  });
});

describe("each platform's media message, accepted by its simulator", () => {
  let files: Server;
  let filesUrl = '';
  const simulators: Partial<Record<'whatsapp' | 'meta' | 'telegram', PlatformSimulator>> = {};
  let senders: Senders;
  beforeAll(async () => {
    files = createServer((req, res) => {
      if (req.url === `/link/demo/${HASH}`) res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG);
      else res.writeHead(403).end();
    });
    filesUrl = await listen(files);
    for (const kind of ['whatsapp', 'meta', 'telegram'] as const) {
      simulators[kind] = await startPlatformSimulator({ kind, statusDelaysMs: [0, 0, 0] });
    }
    senders = withMediaLinks(
      createSenders(undefined as never, 5_000),
      (tenant, hash) => `${filesUrl}/link/${tenant}/${hash}`,
    );
  });
  afterAll(async () => {
    await Promise.all(Object.values(simulators).map((s) => s.close()));
    await close(files);
  });

  const channel = (platform: ChannelRecord['platform'], externalId: string): ChannelRecord => ({
    tenantId: tenantId('demo'),
    channelId: `${platform}-1`,
    appId: `${platform}-app`,
    platform,
    externalId,
    name: platform,
    inboxId: 'support',
    apiBaseUrl: 'simulator',
    accessToken: platform === 'telegram' ? '123456:TOKEN' : 'TOKEN',
  });
  const image = (caption: string | null, kind: 'image' | 'document' = 'image'): ReplyContent => ({
    type: 'media',
    media: {
      kind,
      url: `attachment:${HASH}`,
      mime: kind === 'image' ? 'image/jpeg' : 'application/pdf',
      size: JPEG.length,
    },
    caption,
  });
  const link = () => `${filesUrl}/link/demo/${HASH}`;

  it('[WA5] WhatsApp: type image with image.link and caption (Cloud API media message)', async () => {
    const simulator = simulators.whatsapp!;
    const outcome = await senders.whatsapp.send(
      {
        channel: channel('whatsapp', '100000000000001'),
        recipient: '34600111222',
        content: image('Your label'),
        tag: null,
        idempotencyKey: 'wa-1',
      },
      simulator.apiBaseUrl,
    );
    expect(outcome).toMatchObject({ kind: 'sent' });
    const sent = simulator.accepted().at(-1)!;
    expect(sent.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '34600111222',
      type: 'image',
      image: { link: link(), caption: 'Your label' },
    });
    expect(sent.media).toMatchObject({ kind: 'image', status: 200, sha256: HASH, bytes: JPEG.length });
  });

  it('[MS5] Messenger: message.attachment of type image with payload.url (Send API)', async () => {
    const simulator = simulators.meta!;
    const outcome = await senders.messenger.send(
      {
        channel: channel('messenger', 'PAGE1'),
        recipient: 'PSID1',
        content: image(null),
        tag: null,
        idempotencyKey: 'ms-1',
      },
      simulator.apiBaseUrl,
    );
    expect(outcome).toMatchObject({ kind: 'sent' });
    const sent = simulator.accepted().at(-1)!;
    expect(sent.body).toEqual({
      recipient: { id: 'PSID1' },
      messaging_type: 'RESPONSE',
      message: { attachment: { type: 'image', payload: { url: link(), is_reusable: true } } },
    });
    expect(sent.media).toMatchObject({ sha256: HASH });
  });

  it('[IG5] Instagram: the same Send API attachment shape, a document as type file', async () => {
    const simulator = simulators.meta!;
    await senders.instagram.send(
      {
        channel: channel('instagram', 'IG1'),
        recipient: 'IGSID1',
        content: image(null, 'document'),
        tag: null,
        idempotencyKey: 'ig-1',
      },
      simulator.apiBaseUrl,
    );
    expect(simulator.accepted().at(-1)!.body).toMatchObject({
      message: { attachment: { type: 'file', payload: { url: link() } } },
    });
  });

  it('[TG4] Telegram: sendPhoto with the photo URL and caption, sendDocument for a document (Bot API)', async () => {
    const simulator = simulators.telegram!;
    const tg = channel('telegram', '123456');
    expect(
      await senders.telegram.send(
        { channel: tg, recipient: '700001', content: image('Your label'), tag: null, idempotencyKey: 'tg-1' },
        simulator.apiBaseUrl,
      ),
    ).toMatchObject({ kind: 'sent' });
    expect(simulator.accepted().at(-1)!.body).toEqual({
      chat_id: '700001',
      photo: link(),
      caption: 'Your label',
    });
    await senders.telegram.send(
      {
        channel: tg,
        recipient: '700001',
        content: image(null, 'document'),
        tag: null,
        idempotencyKey: 'tg-2',
      },
      simulator.apiBaseUrl,
    );
    expect(simulator.accepted().at(-1)!.body).toEqual({ chat_id: '700001', document: link() });
    expect(simulator.accepted().at(-1)!.media).toMatchObject({ sha256: HASH });
  });

  it('a simulator refuses a media message whose file it cannot fetch, as the platform would', async () => {
    const broken = withMediaLinks(createSenders(undefined as never, 5_000), () => `${filesUrl}/expired`);
    const outcome = await broken.whatsapp.send(
      {
        channel: channel('whatsapp', '100000000000001'),
        recipient: '34600111222',
        content: image(null),
        tag: null,
        idempotencyKey: 'wa-2',
      },
      simulators.whatsapp!.apiBaseUrl,
    );
    expect(outcome).toMatchObject({ kind: 'rejected' });
  });

  it('a stored file with no public URL to link it waits (transient) instead of sending a dead link', async () => {
    const unlinked = withMediaLinks(createSenders(undefined as never, 5_000), () => undefined);
    const outcome = await unlinked.telegram.send(
      {
        channel: channel('telegram', '123456'),
        recipient: '700001',
        content: image(null),
        tag: null,
        idempotencyKey: 'tg-3',
      },
      simulators.telegram!.apiBaseUrl,
    );
    expect(outcome).toMatchObject({ kind: 'transient', code: 'NO_PUBLIC_URL' });
  });
});

describe("customers' files, downloaded from the platform", () => {
  const simulators: Partial<Record<'whatsapp' | 'telegram', PlatformSimulator>> = {};
  const stored: { tenantId: string; bytes: Buffer; claimedMime: string }[] = [];
  beforeAll(async () => {
    simulators.whatsapp = await startPlatformSimulator({ kind: 'whatsapp' });
    simulators.telegram = await startPlatformSimulator({ kind: 'telegram' });
  });
  afterAll(async () => {
    await Promise.all(Object.values(simulators).map((s) => s.close()));
  });
  const fetcher = inboundMediaFetcher({
    store: async (tenant, body, claimedMime) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      stored.push({ tenantId: tenant, bytes, claimedMime });
      return { url: `attachment:${sha(bytes)}`, mime: 'image/png', size: bytes.length };
    },
    baseUrlOf: (channel) =>
      channel.platform === 'whatsapp' ? simulators.whatsapp!.apiBaseUrl : simulators.telegram!.apiBaseUrl,
    logger: createLogger('silent'),
  });
  const channel = (platform: 'whatsapp' | 'telegram'): ChannelRecord => ({
    tenantId: tenantId('demo'),
    channelId: `${platform}-1`,
    appId: 'app',
    platform,
    externalId: '1',
    name: platform,
    inboxId: 'support',
    apiBaseUrl: 'simulator',
    accessToken: platform === 'telegram' ? '123456:TOKEN' : 'TOKEN',
  });
  const photo = (url: string) =>
    ({
      type: 'media',
      media: { kind: 'image', url, mime: 'image/jpeg', size: 0 },
      caption: 'my parcel',
    }) as const;

  it('a WhatsApp media id becomes a stored file: GET /{media-id}, then its URL with the token', async () => {
    const content = await fetcher(channel('whatsapp'), photo('whatsapp-media:1234567890'));
    expect(content).toEqual({
      type: 'media',
      media: {
        kind: 'image',
        url: `attachment:${sha(SAMPLE_PNG)}`,
        mime: 'image/png',
        size: SAMPLE_PNG.length,
      },
      caption: 'my parcel',
    });
    expect(stored.at(-1)).toMatchObject({ tenantId: 'demo', claimedMime: 'image/png' });
    expect(stored.at(-1)!.bytes.equals(SAMPLE_PNG)).toBe(true);
  });

  it('a Telegram file id becomes a stored file: getFile, then /file/bot{token}/{file_path}', async () => {
    const content = await fetcher(channel('telegram'), photo('telegram-file:AgACAgQAAxkBAAIB'));
    expect(content).toMatchObject({ media: { url: `attachment:${sha(SAMPLE_PNG)}` } });
  });

  it('a file the platform no longer has keeps its reference, for the agent to see where it was', async () => {
    const before = stored.length;
    const original = photo('whatsapp-media:gone-42');
    expect(await fetcher(channel('whatsapp'), original)).toEqual(original);
    expect(await fetcher(channel('telegram'), photo('telegram-file:gone-7'))).toEqual(
      photo('telegram-file:gone-7'),
    );
    expect(stored.length).toBe(before);
  });
});
