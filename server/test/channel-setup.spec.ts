import { tenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MESSAGE_TEXT } from '../src/channels/setup';
import { API_BACKENDS, openApiHarness, serveHttp, type ApiHarness, type Caller } from './api.support';
import { eventually } from './fixtures/channels/harness';

const demo = tenantId('demo');
const WHATSAPP = {
  phoneNumberId: '100000000000777',
  accessToken: 'EAAG-setup-token-1',
  appSecret: 'setupsecret0123456789',
};
const BOT_TOKEN = '7000000777:AAHsetupTokenForTheSimulatorOnly';

/** An asymmetric matcher typed as the string it matches (Vitest types it `any`). */
const matching = (pattern: RegExp): string => expect.stringMatching(pattern) as string;

async function refusal(call: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call();
  } catch (error) {
    if (error instanceof TRPCError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the call was not refused');
}

describe.each(API_BACKENDS)(
  '#17 connecting channels from Settings (admin.channels, 0038) on %s',
  (kind, enabled) => {
    let h: ApiHarness;
    let stop: () => Promise<void>;
    let base: string;
    let ada: Caller;
    let ana: Caller;
    let gus: Caller;

    /** Every row of the channels tables and every setup event of a tenant: what "nothing changed" compares. */
    const snapshot = async (tenant = demo) => ({
      channels: await h.services.db.sql.query(
        'SELECT * FROM channels WHERE tenant_id = $1 ORDER BY channel_id',
        [tenant],
      ),
      apps: await h.services.db.sql.query('SELECT * FROM channel_apps WHERE tenant_id = $1 ORDER BY app_id', [
        tenant,
      ]),
      // Every stored row, not `readAll`: its gap-safe read may not yet show the newest commit.
      events: (
        await h.services.db.sql.query<{
          stream_id: string;
          type: string;
          data: unknown;
          metadata: { actor?: unknown };
        }>(
          `SELECT stream_id, type, data, metadata FROM events
            WHERE tenant_id = $1 AND stream_id LIKE 'channel-%' ORDER BY stream_id, version`,
          [tenant],
        )
      ).map((row) => ({ streamId: row.stream_id, type: row.type, data: row.data, metadata: row.metadata })),
    });

    beforeAll(async () => {
      if (!enabled) return;
      process.env.PARLEY_SIMULATORS = 'on';
      process.env.PARLEY_CUSTOMER_SIMULATOR_MS = '0';
      h = await openApiHarness(kind);
      const served = await serveHttp(h);
      stop = () => served.stop();
      base = served.url.replace(/\/trpc$/, '');
      ada = (await h.signIn('ada@demo.parley.test')).caller;
      ana = (await h.signIn('ana@demo.parley.test')).caller;
      gus = (await h.signIn('gus@globex.parley.test')).caller;
    });
    afterAll(async () => {
      if (!enabled) return;
      await stop();
      await h.dispose();
      process.env.PARLEY_SIMULATORS = 'off';
    });

    it.skipIf(!enabled)(
      'connects WhatsApp to the simulator: the webhook URL and verify token are shown, the credentials never',
      async () => {
        const { channelId } = await ada.admin.channels.connect({
          platform: 'whatsapp',
          name: 'Sales WhatsApp',
          inboxId: 'support',
          target: 'simulator',
          credentials: WHATSAPP,
        });
        const setup = await ada.admin.channels.setup();
        const channel = setup.channels.find((c) => c.channelId === channelId)!;
        expect(channel).toMatchObject({ platform: 'whatsapp', name: 'Sales WhatsApp', target: 'simulator' });
        expect(channel.webhookUrl).toBe(`${base}/webhooks/whatsapp/${channel.appId}`);
        expect(channel.verifyToken).toMatch(/^[0-9a-f]{32}$/);
        expect(channel.credentials.map((c) => c.key)).toEqual(['phoneNumberId', 'accessToken', 'appSecret']);
        const wire = JSON.stringify(setup) + JSON.stringify(await ada.admin.channels.overview());
        expect(wire).not.toContain(WHATSAPP.accessToken);
        expect(wire).not.toContain(WHATSAPP.appSecret);
        // Stored sealed (0022), as every secret and token is.
        const [row] = await h.services.db.sql.query<{ access_token: string }>(
          'SELECT access_token FROM channels WHERE tenant_id = $1 AND channel_id = $2',
          [demo, channelId],
        );
        expect(row!.access_token).toMatch(/^enc1:/);
        // The handshake Meta makes with the token the admin pasted.
        const handshake = await fetch(
          `${channel.webhookUrl}?hub.mode=subscribe&hub.verify_token=${channel.verifyToken}&hub.challenge=42`,
        );
        expect(await handshake.text()).toBe('42');
        // Recorded with its actor, naming the fields saved and none of their values.
        const events = (await snapshot()).events.filter((e) => e.streamId === `channel-${channelId}`);
        expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
          ['ChannelConnected', { kind: 'agent', id: 'ada' }],
        ]);
        expect(JSON.stringify(events)).not.toContain(WHATSAPP.appSecret);
        // The audit view names who did it, and says nothing of the credentials.
        const audit = await ada.audit.log({ streamId: `channel-${channelId}` });
        expect(audit.entries.map((row) => [row.actor.name, row.summary])).toEqual([
          ['Ada Admin', 'Channel Sales WhatsApp (whatsapp) connected by Ada Admin'],
        ]);
      },
    );

    it.skipIf(!enabled)(
      'a test message reaches the inbox through the webhook URL, and the last webhook shows it processed',
      async () => {
        const { channels } = await ada.admin.channels.setup();
        const channel = channels.find((c) => c.name === 'Sales WhatsApp')!;
        const sent = await ada.admin.channels.testMessage({ channelId: channel.channelId });
        expect(sent.webhookStatus).toBe(200);
        const conversation = await eventually(async () => {
          const list = await ada.conversations.list({});
          return list.items.find((item) => item.conversationId === sent.conversationId);
        });
        expect(JSON.stringify(conversation)).toContain(TEST_MESSAGE_TEXT);
        const after = await eventually(async () => {
          const view = (await ada.admin.channels.setup()).channels.find(
            (c) => c.channelId === channel.channelId,
          )!;
          return view.lastWebhook?.status === 'processed' && view.lastWebhook;
        });
        expect(after.receivedAt).toBeGreaterThan(0);
      },
    );

    it.skipIf(!enabled)(
      '[CS1][CS2][CS6] duplicate names, a platform id in use, missing credentials, an unknown platform: clear errors, nothing changes',
      async () => {
        const before = await snapshot();
        const connect = (input: Record<string, unknown>) =>
          refusal(() =>
            ada.admin.channels.connect({
              platform: 'whatsapp',
              name: 'Another',
              inboxId: 'support',
              target: 'simulator',
              credentials: { ...WHATSAPP, phoneNumberId: '100000000000888' },
              ...input,
            } as never),
          );
        expect(await connect({ name: 'sales whatsapp' })).toMatchObject({
          code: 'CONFLICT',
          message: matching(/named "sales whatsapp" exists already/),
        });
        expect(await connect({ credentials: WHATSAPP })).toMatchObject({
          code: 'CONFLICT',
          message: matching(/Phone number ID \(100000000000777\) is connected already/),
        });
        expect(await connect({ credentials: { phoneNumberId: '100000000000888' } })).toMatchObject({
          code: 'BAD_REQUEST',
          message: matching(/Access token is missing.*App secret is missing/),
        });
        expect(await connect({ platform: 'sms' })).toMatchObject({ code: 'BAD_REQUEST' });
        expect(await connect({ inboxId: 'nowhere' })).toMatchObject({ code: 'NOT_FOUND' });
        expect(await snapshot()).toEqual(before);
      },
    );

    it.skipIf(!enabled)(
      'a live Meta channel’s secret is Meta’s: Parley refuses to make one up and changes nothing',
      async () => {
        const { channelId } = await ada.admin.channels.connect({
          platform: 'messenger',
          name: 'Live page',
          inboxId: 'support',
          target: 'platform',
          credentials: {
            pageId: '200000000000777',
            accessToken: 'EAAG-live-page-token',
            appSecret: 'livesecret0123456789',
          },
        });
        const channel = (await ada.admin.channels.setup()).channels.find((c) => c.channelId === channelId)!;
        expect(channel).toMatchObject({
          target: 'platform',
          webhookUrl: `${base}/webhooks/meta/${channel.appId}`,
        });
        const before = await snapshot();
        expect(await refusal(() => ada.admin.channels.rotateSecret({ appId: channel.appId }))).toMatchObject({
          code: 'PRECONDITION_FAILED',
          message: matching(/reset it in the Meta app.*Replace credentials/),
        });
        expect(await snapshot()).toEqual(before);
      },
    );

    it.skipIf(!enabled)(
      '[CS2] two admins connecting one name at once: one channel, the other a CONFLICT',
      async () => {
        const connect = (phoneNumberId: string) =>
          ada.admin.channels.connect({
            platform: 'whatsapp',
            name: 'Raced line',
            inboxId: 'support',
            target: 'simulator',
            credentials: { ...WHATSAPP, phoneNumberId },
          });
        const results = await Promise.allSettled([connect('100000000000501'), connect('100000000000502')]);
        expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
        const rejected = results.find((result) => result.status === 'rejected');
        expect((rejected as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
        const named = (await snapshot()).channels.filter(
          (row) => (row as { name: string }).name === 'Raced line',
        );
        expect(named).toHaveLength(1);
      },
    );

    it.skipIf(!enabled)(
      'Telegram: Parley sets the webhook with its secret token; refused credentials save nothing',
      async () => {
        const telegram = h.services.channels.simulators.telegram!;
        telegram.setFaults({ unauthorized: true });
        const before = await snapshot();
        const connect = () =>
          ada.admin.channels.connect({
            platform: 'telegram',
            name: 'Support bot',
            inboxId: 'support',
            target: 'simulator',
            credentials: { botToken: BOT_TOKEN },
          });
        expect(await refusal(connect)).toMatchObject({
          code: 'BAD_REQUEST',
          message: matching(/Telegram refused the bot token \(Unauthorized\).*Nothing was saved/),
        });
        expect(await snapshot()).toEqual(before);
        expect(telegram.webhookOf('7000000777')).toBeUndefined();
        telegram.clearFaults();

        const { channelId } = await connect();
        const channel = (await ada.admin.channels.setup()).channels.find((c) => c.channelId === channelId)!;
        const hook = telegram.webhookOf('7000000777')!;
        expect(hook.url).toBe(channel.webhookUrl);
        // The secret token Telegram now sends is the one Parley checks (IN1).
        const update = await fetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-telegram-bot-api-secret-token': hook.secretToken,
          },
          body: JSON.stringify({
            update_id: 1,
            message: {
              message_id: 1,
              date: 1,
              chat: { id: 5, type: 'private' },
              from: { id: 5, first_name: 'T' },
              text: 'hi',
            },
          }),
        });
        expect(update.status).toBe(200);
        expect(JSON.stringify(await ada.admin.channels.setup())).not.toContain(BOT_TOKEN);

        // Rotation tells the bot its new secret token; the old one stays accepted for the grace.
        const rotated = await ada.admin.channels.rotateSecret({ appId: channel.appId, graceHours: 2 });
        expect(telegram.webhookOf('7000000777')!.secretToken).toBe(rotated.secret);
        expect(rotated.previousSecretExpiresAt).toBeGreaterThan(Date.now() + 3_600_000);
        const events = (await snapshot()).events.filter((e) => e.streamId === `channel-${channelId}`);
        expect(events.map((e) => e.type)).toEqual(['ChannelConnected', 'WebhookSecretRotated']);
      },
    );

    it.skipIf(!enabled)(
      'replacing credentials keeps the platform id, is shown as saved, and records its actor',
      async () => {
        const channel = (await ada.admin.channels.setup()).channels.find((c) => c.name === 'Sales WhatsApp')!;
        const before = await snapshot();
        expect(
          await refusal(() =>
            ada.admin.channels.replaceCredentials({
              channelId: channel.channelId,
              credentials: { ...WHATSAPP, phoneNumberId: '100000000000999' },
            }),
          ),
        ).toMatchObject({ code: 'BAD_REQUEST', message: matching(/another phone number id/) });
        expect(await snapshot()).toEqual(before);
        const replaced = {
          ...WHATSAPP,
          accessToken: 'EAAG-setup-token-2',
          appSecret: 'setupsecret9876543210',
        };
        expect(
          await ada.admin.channels.replaceCredentials({
            channelId: channel.channelId,
            credentials: replaced,
          }),
        ).toEqual({
          channelId: channel.channelId,
          saved: true,
        });
        const app = await h.services.channels.repo.app(channel.appId);
        expect(app).toMatchObject({ secret: replaced.appSecret, previousSecret: WHATSAPP.appSecret });
        expect(JSON.stringify(await ada.admin.channels.setup())).not.toContain(replaced.accessToken);
      },
    );

    it.skipIf(!enabled)(
      '[CS5] the widget takes posts from its allowed origins and its preview, and refuses others with a clear 403',
      async () => {
        const { channelId } = await ada.admin.channels.connect({
          platform: 'webchat',
          name: 'Website chat',
          inboxId: 'support',
          target: 'platform',
        });
        const before = await snapshot();
        expect(
          await refusal(() =>
            ada.admin.channels.configureWidget({
              channelId,
              settings: {
                colour: '#aa3366',
                greeting: 'Hello!',
                preChat: { name: true, email: true },
                allowedOrigins: ['shop.example.com/path'],
              },
            }),
          ),
        ).toMatchObject({
          code: 'BAD_REQUEST',
          message: matching(/"shop.example.com\/path" is not an origin/),
        });
        expect(await snapshot()).toEqual(before);
        await ada.admin.channels.configureWidget({
          channelId,
          settings: {
            colour: '#AA3366',
            greeting: 'Hello!',
            preChat: { name: true, email: true },
            allowedOrigins: ['https://Shop.example.com'],
          },
        });
        const channel = (await ada.admin.channels.setup()).channels.find((c) => c.channelId === channelId)!;
        expect(channel.widget).toMatchObject({
          settings: { colour: '#aa3366', allowedOrigins: ['https://shop.example.com'] },
          snippet: `<script src="${base}/webchat/widget.js" data-app="${channel.appId}" async></script>`,
          previewUrl: `${base}/webchat/${channel.appId}/preview`,
        });
        const app = `${base}/webchat/${channel.appId}`;
        expect(await (await fetch(`${app}/config`)).json()).toEqual({
          colour: '#aa3366',
          greeting: 'Hello!',
          preChat: { name: true, email: true },
        });
        const session = (origin: string) =>
          fetch(`${app}/session`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', origin },
            body: '{}',
          });
        const refused = await session('https://evil.example');
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({
          error: 'ORIGIN_NOT_ALLOWED',
          message: matching(/evil\.example/),
        });
        for (const origin of ['https://shop.example.com', base]) {
          const allowed = await session(origin);
          expect(allowed.status, origin).toBe(200);
          const { token } = (await allowed.json()) as { token: string };
          const posted = await fetch(`${app}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', origin, authorization: `Bearer ${token}` },
            body: JSON.stringify({
              type: 'message',
              id: `m-${origin.length}`,
              text: `from ${origin}`,
              name: 'Vi',
              email: 'vi@example.com',
            }),
          });
          expect(posted.status).toBe(200);
          // Someone else's page with a token it got elsewhere still gets 403 on every post.
          const stolen = await fetch(`${app}/events`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              origin: 'https://evil.example',
              authorization: `Bearer ${token}`,
            },
            body: JSON.stringify({ type: 'message', id: 'evil', text: 'evil' }),
          });
          expect(stolen.status).toBe(403);
        }
        expect(await (await fetch(`${app}/preview`)).text()).toMatch(/data-app="[A-Za-z0-9_-]+"/);
        const events = (await snapshot()).events.filter((e) => e.streamId === `channel-${channelId}`);
        expect(events.map((e) => e.type)).toEqual(['ChannelConnected', 'WidgetConfigured']);
      },
    );

    it.skipIf(!enabled)(
      'is for admins only, and another tenant’s channels do not exist for them',
      async () => {
        const channel = (await ada.admin.channels.setup()).channels.find((c) => c.name === 'Website chat')!;
        const before = await snapshot();
        expect((await refusal(() => ana.admin.channels.setup())).code).toBe('FORBIDDEN');
        expect(
          (
            await refusal(() =>
              ana.admin.channels.connect({
                platform: 'webchat',
                name: 'Mine',
                inboxId: 'support',
                target: 'platform',
              }),
            )
          ).code,
        ).toBe('FORBIDDEN');
        for (const call of [
          () =>
            gus.admin.channels.configureWidget({
              channelId: channel.channelId,
              settings: {
                colour: '#000000',
                greeting: '',
                preChat: { name: false, email: false },
                allowedOrigins: [],
              },
            }),
          () => gus.admin.channels.replaceCredentials({ channelId: channel.channelId, credentials: {} }),
          () => gus.admin.channels.testMessage({ channelId: channel.channelId }),
          () => gus.admin.channels.rotateSecret({ appId: channel.appId }),
          () =>
            gus.admin.channels.connect({
              platform: 'webchat',
              name: 'Spy',
              inboxId: 'support',
              target: 'platform',
            }),
        ]) {
          expect((await refusal(call)).code).toBe('NOT_FOUND');
        }
        expect(JSON.stringify(await gus.admin.channels.setup())).not.toContain(channel.appId);
        expect(await snapshot()).toEqual(before);
      },
    );
  },
);
