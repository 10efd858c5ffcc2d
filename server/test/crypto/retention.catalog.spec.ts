import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_BACKENDS, openApiHarness, type ApiHarness } from '../api.support';

describe.each(API_BACKENDS)('catalog.retention on %s', (kind, enabled) => {
  let h: ApiHarness;

  beforeAll(async () => {
    if (enabled) h = await openApiHarness(kind);
  });

  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    "[18-RT7] tells every signed-in agent their own tenant's retention, so devices can honour it, and no one else's",
    async () => {
      const agent = await h.signIn('ana@demo.parley.test');
      const admin = await h.signIn('ada@demo.parley.test');
      const gus = await h.signIn('gus@globex.parley.test');
      expect(await agent.caller.catalog.retention()).toEqual({ retentionDays: null });

      await admin.caller.admin.settings.setRetention({ days: 30 });
      expect(await agent.caller.catalog.retention()).toEqual({ retentionDays: 30 });
      expect(await admin.caller.catalog.retention()).toEqual({ retentionDays: 30 });
      expect(await gus.caller.catalog.retention()).toEqual({ retentionDays: null });

      await gus.caller.admin.settings.setRetention({ days: 7 });
      expect(await agent.caller.catalog.retention()).toEqual({ retentionDays: 30 });
      // Reading it changes nothing an agent could not already do: setting it stays for admins.
      await expect(agent.caller.admin.settings.setRetention({ days: null })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    },
  );
});
