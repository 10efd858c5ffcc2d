import { createECDH, createHmac, createDecipheriv, createPublicKey, randomBytes, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantId, type ReceiveInboundMessage } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../src/crypto/secrets';
import { startNotifications, type Notifications, type PushMessage } from '../src/notifications';
import { pushAgent } from '../src/notifications/public-address';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');

/** A browser's push subscription: its keys stay here, so the test can read what was sent to it. */
function browserSubscription(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    json: {
      endpoint,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    },
    /** RFC 8291 (aes128gcm), as the browser decrypts a push message. */
    decrypt(body: Buffer): unknown {
      const salt = body.subarray(0, 16);
      const idLength = body.readUInt8(20);
      const serverKey = body.subarray(21, 21 + idLength);
      const ciphertext = body.subarray(21 + idLength);
      const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
      const shared = ecdh.computeSecret(serverKey);
      const keyInfo = Buffer.concat([
        Buffer.from('WebPush: info\0'),
        ecdh.getPublicKey(),
        serverKey,
        Buffer.of(1),
      ]);
      const ikm = hmac(hmac(auth, shared), keyInfo);
      const prk = hmac(salt, ikm);
      const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
      const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
      const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
      decipher.setAuthTag(ciphertext.subarray(-16));
      const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
      return JSON.parse(padded.subarray(0, padded.lastIndexOf(2)).toString('utf8'));
    },
  };
}

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A self-signed certificate for 127.0.0.1, made with openssl for this run. */
function certificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-push-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stands in for a browser push service over HTTPS: records each POST, answers 201 (410 under /gone/). */
function pushService(tls: { key: Buffer; cert: Buffer }) {
  const received: Received[] = [];
  const server: Server = createServer(tls, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(request.url?.startsWith('/gone/') ? 410 : 201).end();
    });
  });
  return {
    received,
    server,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (!address || typeof address === 'string') throw new Error('no port');
      return `https://127.0.0.1:${address.port}`;
    },
    async next(count: number): Promise<Received> {
      const deadline = Date.now() + 10_000;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`push ${count} never came (${received.length} so far)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return received[count - 1]!;
    },
  };
}

/** Checks the VAPID `Authorization` header: an ES256 JWT for the endpoint's origin, signed by `publicKey`. */
function checkVapid(headers: IncomingHttpHeaders, origin: string, publicKey: string) {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(headers.authorization ?? '');
  expect(match, 'a VAPID Authorization header').not.toBeNull();
  const [, token, key] = match!;
  expect(key).toBe(publicKey);
  const [header, claims, signature] = token!.split('.') as [string, string, string];
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'ES256' });
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString()) as {
    aud: string;
    sub: string;
    exp: number;
  };
  expect(body.aud).toBe(origin);
  expect(body.sub).toMatch(/^mailto:|^https:/);
  expect(body.exp * 1000).toBeGreaterThan(Date.now());
  const raw = Buffer.from(publicKey, 'base64url');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: raw.subarray(1, 33).toString('base64url'),
    y: raw.subarray(33).toString('base64url'),
  };
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  expect(valid, 'signed with the tenant key').toBe(true);
}

async function code(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

describe.each(API_BACKENDS)('#15 notifications by Web Push on %s (decision 0026)', (kind, enabled) => {
  let h: ApiHarness;
  let ana: Caller;
  let ben: Caller;
  let gus: Caller;
  const tls = certificate();
  const push = pushService(tls);
  /**
   * The server's own push agent (public addresses only; loopback admitted for the stand-in), also
   * trusting the stand-in's certificate as the real server trusts the public push services'.
   */
  const agent = pushAgent({ allowLoopback: true, ca: tls.cert });
  let origin: string;
  let running: Notifications;
  const restart = async () => {
    await running.stop();
    running = await startNotifications({
      db: h.services.db,
      store: h.services.store,
      grains: h.services.grains,
      secrets: createSecretBox(h.services.keys),
      signals: h.services.broadcast,
      logger: h.services.logger,
      config: { agent },
    });
  };
  let benPhone: ReturnType<typeof browserSubscription>;
  let publicKey: string;
  let message = 0;
  const customerWrites = (conversationId: string, text: string) =>
    h.services.grains.conversation(demo, conversationId).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `wamid.test-${++message}`,
        contact: { id: 'c-yuki', name: 'Yuki Tanaka', handle: '+81 90 1234 5678' },
        content: { type: 'text', text },
        sentAt: h.now(),
      },
    } satisfies ReceiveInboundMessage);

  beforeAll(async () => {
    if (!enabled) return;
    process.env.PARLEY_PUSH_ALLOW_LOOPBACK = '1';
    origin = await push.listen();
    h = await openApiHarness(kind);
    running = h.services.notifications;
    await restart();
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    ben = (await h.signIn('ben@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
    await h.settle();
    benPhone = browserSubscription(`${origin}/push/ben-phone`);
    publicKey = (await ben.notifications.publicKey()).publicKey;
    await ben.notifications.subscribe(benPhone.json);
  });
  afterAll(async () => {
    if (!enabled) return;
    delete process.env.PARLEY_PUSH_ALLOW_LOOPBACK;
    await running.stop();
    await h.dispose();
    push.server.close();
  });

  it.skipIf(!enabled)('keeps one VAPID key pair per tenant, its private key sealed at rest', async () => {
    const rows = await h.services.db.sql.query<{
      tenant_id: string;
      public_key: string;
      private_key: string;
    }>('SELECT tenant_id, public_key, private_key FROM push_vapid_keys ORDER BY tenant_id');
    expect(rows.map((row) => row.tenant_id)).toEqual(['demo', 'globex']);
    for (const row of rows) expect(row.private_key).toMatch(/^enc1:/);
    expect(rows.find((row) => row.tenant_id === 'demo')?.public_key).toBe(publicKey);
    expect((await gus.notifications.publicKey()).publicKey).not.toBe(publicKey);
    expect((await ben.notifications.publicKey()).publicKey).toBe(publicKey);
  });

  it.skipIf(!enabled)(
    'pushes "assigned to you" to the agent’s device, encrypted for it and signed with the tenant’s VAPID key',
    async () => {
      const before = push.received.length;
      const notices = ben.presence.watch({ device: 'ben-tab-notify' });
      const iterator = (await notices)[Symbol.asyncIterator]();
      await iterator.next(); // the snapshot
      await ana.conversations.assign({ conversationId: 'demo-2', agentId: 'ben' });
      const request = await push.next(before + 1);
      expect(request.path).toBe('/push/ben-phone');
      expect(request.headers['content-encoding']).toBe('aes128gcm');
      expect(request.headers.ttl).toBe('3600');
      expect(request.headers.urgency).toBe('high');
      checkVapid(request.headers, origin, publicKey);
      expect(request.body.includes(Buffer.from('Tom Baker'))).toBe(false);
      expect(benPhone.decrypt(request.body)).toEqual({
        trigger: 'assigned',
        conversationId: 'demo-2',
        title: 'Assigned to you',
        body: 'Tom Baker',
        url: '/c/demo-2',
        tag: 'conversation:demo-2',
      } satisfies PushMessage);
      // The open app hears it too, as an in-app notice.
      const notice = await iterator.next();
      expect(notice.value).toMatchObject({ kind: 'notice', trigger: 'assigned', conversationId: 'demo-2' });
      void iterator.return?.();
    },
  );

  it.skipIf(!enabled)(
    'pushes the customer’s answer to the assignee and a mention to the agent mentioned, never self-assignment',
    async () => {
      const before = push.received.length;
      // Ben takes demo-4 himself (NT1: nothing), then Yuki writes on Ben's demo-3 (NT2).
      await ben.conversations.assign({ conversationId: 'demo-4', agentId: 'ben' });
      await customerWrites('demo-3', 'Is it shipped yet?');
      const answered = await push.next(before + 1);
      expect(benPhone.decrypt(answered.body)).toMatchObject({
        trigger: 'customer_replied',
        conversationId: 'demo-3',
        title: 'Yuki Tanaka',
        body: 'Is it shipped yet?',
      });
      await ana.conversations.note({
        conversationId: 'demo-1',
        noteId: 'n-mention',
        text: '@ben can you call?',
        mentions: ['ben'],
      });
      const mentioned = await push.next(before + 2);
      expect(benPhone.decrypt(mentioned.body)).toMatchObject({
        trigger: 'mentioned',
        conversationId: 'demo-1',
        title: 'Ana Agent mentioned you (Maria Lopez)',
        body: '@ben can you call?',
      });
      // The self-assignment, between them in the log, sent nothing.
      expect(push.received.length).toBe(before + 2);
    },
  );

  it.skipIf(!enabled)('follows the agent’s choices: a trigger turned off sends nothing', async () => {
    expect(await ben.notifications.updateSettings({ mentioned: false, sound: false })).toEqual({
      assigned: true,
      customer_replied: true,
      mentioned: false,
      sound: false,
    });
    expect(await ben.notifications.settings()).toMatchObject({ mentioned: false });
    const before = push.received.length;
    await ana.conversations.note({
      conversationId: 'demo-1',
      noteId: 'n-quiet',
      text: '@ben fyi',
      mentions: ['ben'],
    });
    await customerWrites('demo-3', 'Hello?');
    const next = await push.next(before + 1);
    expect(benPhone.decrypt(next.body)).toMatchObject({ trigger: 'customer_replied', body: 'Hello?' });
    expect(push.received.length).toBe(before + 1);
    await ben.notifications.updateSettings({ mentioned: true });
  });

  it.skipIf(!enabled)('sends nothing twice after a restart: it resumes from its checkpoint', async () => {
    const before = push.received.length;
    const queued = await h.services.db.sql.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM push_notifications',
    );
    await restart();
    {
      await customerWrites('demo-3', 'After the restart');
      const next = await push.next(before + 1);
      // Everything before the restart would have come first, in log order: only the new message came.
      expect(benPhone.decrypt(next.body)).toMatchObject({ body: 'After the restart' });
      await running.sender.drain();
      expect(push.received.length).toBe(before + 1);
      const after = await h.services.db.sql.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM push_notifications',
      );
      expect(Number(after[0]!.n)).toBe(Number(queued[0]!.n) + 1);
      // The same key pair after a restart.
      expect((await ben.notifications.publicKey()).publicKey).toBe(publicKey);
    }
  });

  it.skipIf(!enabled)('forgets a device the push service no longer knows (410 Gone)', async () => {
    await ben.notifications.subscribe(browserSubscription(`${origin}/gone/old-laptop`).json);
    const before = push.received.length;
    {
      await customerWrites('demo-3', 'Anyone?');
      await push.next(before + 2);
      await running.sender.drain();
      const left = await h.services.db.sql.query<{ endpoint: string }>(
        "SELECT endpoint FROM push_subscriptions WHERE agent_id = 'ben' ORDER BY endpoint",
      );
      expect(left.map((row) => row.endpoint)).toEqual([`${origin}/push/ben-phone`]);
    }
  });

  it.skipIf(!enabled)(
    'refuses an endpoint that is not a push service’s https address, and stores nothing',
    async () => {
      for (const endpoint of [
        `http://127.0.0.1:${new URL(origin).port}/push`,
        'https://10.0.0.8/push',
        'https://[fd00::1]/push',
        'file:///etc/passwd',
        'not a url',
        'https://user:pw@push.example/x',
      ]) {
        expect(await code(() => ben.notifications.subscribe({ ...benPhone.json, endpoint }))).toBe(
          'BAD_REQUEST',
        );
      }
      expect(
        await code(() =>
          ben.notifications.subscribe({
            endpoint: 'https://push.example/x',
            keys: { p256dh: 'a b', auth: 'x' },
          }),
        ),
      ).toBe('BAD_REQUEST');
      const rows = await h.services.db.sql.query(
        'SELECT 1 FROM push_subscriptions WHERE endpoint NOT LIKE $1',
        [`${origin}/%`],
      );
      expect(rows).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    'keeps each agent’s devices and choices their own: another tenant cannot remove or read them',
    async () => {
      expect(await gus.notifications.unsubscribe({ endpoint: benPhone.json.endpoint })).toEqual({
        removed: false,
      });
      expect(await ana.notifications.unsubscribe({ endpoint: benPhone.json.endpoint })).toEqual({
        removed: false,
      });
      const rows = await h.services.db.sql.query<{ agent_id: string }>(
        'SELECT agent_id FROM push_subscriptions WHERE endpoint = $1',
        [benPhone.json.endpoint],
      );
      expect(rows).toEqual([{ agent_id: 'ben' }]);
      await gus.notifications.updateSettings({ assigned: false });
      expect(await ben.notifications.settings()).toMatchObject({ assigned: true });
      expect(await ben.notifications.unsubscribe({ endpoint: benPhone.json.endpoint })).toEqual({
        removed: true,
      });
    },
  );
});
