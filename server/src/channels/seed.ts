import { randomBytes } from 'node:crypto';
import { tenantId as toTenantId } from '@parley/domain';
import type { Channels } from './index';

/**
 * Gives tenant `demo` a channel of every platform, pointed at the local simulators, with fresh
 * random secrets the first time. Idempotent: existing apps keep their secrets.
 */
export async function seedDemoChannels(
  services: { readonly channels: Pick<Channels, 'repo'> },
  options: { tenant?: string; inboxId?: string } = {},
): Promise<void> {
  const { repo } = services.channels;
  const tenantId = toTenantId(options.tenant ?? 'demo');
  const inboxId = options.inboxId ?? 'support';
  const secret = () => randomBytes(24).toString('hex');
  const apps = [
    { appId: `${tenantId}-whatsapp`, kind: 'whatsapp', verifyToken: `${tenantId}-verify` },
    { appId: `${tenantId}-meta`, kind: 'meta', verifyToken: `${tenantId}-verify` },
    { appId: `${tenantId}-telegram`, kind: 'telegram', verifyToken: null },
    { appId: `${tenantId}-webchat`, kind: 'webchat', verifyToken: null },
  ] as const;
  for (const app of apps) await repo.ensureApp({ ...app, tenantId, secret: secret() });
  const channels = [
    {
      channelId: 'whatsapp',
      appId: apps[0].appId,
      platform: 'whatsapp',
      externalId: '100000000000001',
      name: 'WhatsApp +1 555 000 1234',
      apiBaseUrl: 'simulator:whatsapp',
      accessToken: 'demo-whatsapp-token',
    },
    {
      channelId: 'messenger',
      appId: apps[1].appId,
      platform: 'messenger',
      externalId: '200000000000001',
      name: 'Messenger: Parley Demo',
      apiBaseUrl: 'simulator:meta',
      accessToken: 'demo-page-token',
    },
    {
      channelId: 'instagram',
      appId: apps[1].appId,
      platform: 'instagram',
      externalId: '300000000000001',
      name: 'Instagram @parley.demo',
      apiBaseUrl: 'simulator:meta',
      accessToken: 'demo-page-token',
    },
    {
      channelId: 'telegram',
      appId: apps[2].appId,
      platform: 'telegram',
      externalId: '7000000001',
      name: 'Telegram @ParleyDemoBot',
      apiBaseUrl: 'simulator:telegram',
      accessToken: '7000000001:DEMO-BOT-TOKEN',
    },
    {
      channelId: 'webchat',
      appId: apps[3].appId,
      platform: 'webchat',
      externalId: apps[3].appId,
      name: 'Web chat',
      apiBaseUrl: 'local:webchat',
      accessToken: '',
    },
  ] as const;
  for (const channel of channels) await repo.saveChannel({ ...channel, tenantId, inboxId });
}
