import { tenantId } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelRepository } from '../../src/channels/repository';
import { createSecretBox } from '../../src/crypto/secrets';
import { BACKENDS, encryptedStore } from './support';

const acme = tenantId('acme');
const SECRET = 'acme-webhook-secret-0123456789';
const NEXT = 'acme-webhook-secret-9876543210';
const VERIFY = 'acme-verify-token-abcdef';
const TOKEN = 'EAAG-platform-access-token-xyz';

const app = {
  appId: 'acme-wa',
  tenantId: acme,
  kind: 'whatsapp' as const,
  secret: SECRET,
  verifyToken: VERIFY,
};
const channel = {
  tenantId: acme,
  channelId: 'acme-wa-1',
  appId: 'acme-wa',
  platform: 'whatsapp' as const,
  externalId: '1555000111',
  name: 'Acme WhatsApp',
  inboxId: 'support',
  apiBaseUrl: 'https://graph.facebook.test',
  accessToken: TOKEN,
};

describe.each(BACKENDS)('secrets at rest on %s', (_name, create, enabled) => {
  let h: Awaited<ReturnType<typeof encryptedStore>>;
  const stored = async () =>
    JSON.stringify([
      await h.test.db.sql.query('SELECT * FROM channel_apps'),
      await h.test.db.sql.query('SELECT * FROM channels'),
    ]);
  beforeEach(async () => {
    if (enabled) h = await encryptedStore(create);
  });
  afterEach(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[18-SEC1] webhook secrets, verify tokens and access tokens are stored sealed by the tenant key and read back clear',
    async () => {
      const repo = new ChannelRepository(h.test.db.sql, Date.now, 0, createSecretBox(h.keys));
      await repo.ensureApp(app);
      await repo.saveChannel(channel);
      for (const secret of [SECRET, VERIFY, TOKEN]) expect(await stored()).not.toContain(secret);
      expect(await repo.app('acme-wa')).toMatchObject({
        secret: SECRET,
        verifyToken: VERIFY,
        previousSecret: null,
      });
      expect((await repo.channel(acme, 'acme-wa-1'))?.accessToken).toBe(TOKEN);
      expect((await repo.channelsOfTenant(acme))[0]?.accessToken).toBe(TOKEN);

      expect(await repo.rotateSecret('acme-wa', NEXT, 60_000)).toBe(true);
      expect(await stored()).not.toContain(NEXT);
      expect(await repo.app('acme-wa')).toMatchObject({ secret: NEXT, previousSecret: SECRET });
      expect(await repo.rotateSecret('acme-wa', NEXT, 60_000, tenantId('globex'))).toBe(false);
    },
  );

  it.skipIf(!enabled)(
    '[18-SEC2] secrets stored in clear before are sealed at start, and still read the same',
    async () => {
      await new ChannelRepository(h.test.db.sql).ensureApp(app);
      await new ChannelRepository(h.test.db.sql).saveChannel(channel);
      expect(await stored()).toContain(SECRET);
      const repo = new ChannelRepository(h.test.db.sql, Date.now, 0, createSecretBox(h.keys));
      expect(await repo.app('acme-wa')).toMatchObject({ secret: SECRET }); // clear rows still read
      expect(await repo.sealStoredSecrets()).toBe(2);
      for (const secret of [SECRET, VERIFY, TOKEN]) expect(await stored()).not.toContain(secret);
      expect(await repo.app('acme-wa')).toMatchObject({ secret: SECRET, verifyToken: VERIFY });
      expect((await repo.channel(acme, 'acme-wa-1'))?.accessToken).toBe(TOKEN);
      expect(await repo.sealStoredSecrets()).toBe(0);
    },
  );

  it.skipIf(!enabled)('[18-SEC3] a sealed secret copied to another app does not open there', async () => {
    const repo = new ChannelRepository(h.test.db.sql, Date.now, 0, createSecretBox(h.keys));
    await repo.ensureApp(app);
    await repo.ensureApp({ ...app, appId: 'acme-other', secret: NEXT });
    await h.test.db.sql.query(
      `UPDATE channel_apps SET secret = (SELECT secret FROM channel_apps WHERE app_id = 'acme-wa') WHERE app_id = 'acme-other'`,
    );
    await expect(repo.app('acme-other')).rejects.toThrow();
  });
});
