import { join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import { runInspectCommand } from '../../src/history/cli';
import { archiveBefore } from '../../src/store/archive';
import { BACKENDS, encryptedStore } from '../crypto/support';

const demo = tenantId('demo');
const NAME = 'Ines Inspected';
const TEXT = 'is my order 5521 on its way?';
const contact = { id: '4917611122233', name: NAME, handle: '+4917611122233' };

class Usage extends Error {}

describe.each(BACKENDS)('npm run parley -- inspect on %s', (_name, create, enabled) => {
  it.skipIf(!enabled)(
    "[TT5] prints a stream as it was at a version or a time, from events on an archived day, with each event's time and actor",
    async () => {
      const yesterday = Date.now() - 86_400_000;
      let now = yesterday;
      const h = await encryptedStore(create, () => now);
      try {
        const stream = streamId('conversation-inspect-1');
        await h.store.append(
          demo,
          stream,
          [
            {
              type: 'ConversationStarted',
              data: {
                conversationId: 'inspect-1',
                inboxId: 'support',
                platform: 'whatsapp',
                contact,
                at: now,
              },
            },
            { type: 'CycleStarted', data: { cycle: 1, at: now } },
            {
              type: 'InboundMessageReceived',
              data: { externalMessageId: 'm1', contact, content: { type: 'text', text: TEXT }, sentAt: now },
            },
          ],
          { expectedVersion: 'no_stream' },
        );
        now = Date.now();
        await h.store.append(
          demo,
          stream,
          [
            {
              type: 'LabelAdded',
              data: { label: 'shipping', at: now },
              metadata: { actor: { kind: 'agent', id: 'ana' } },
            },
          ],
          { expectedVersion: 3 },
        );
        // Yesterday's events leave the database for a day file; inspect reads them from there.
        const days = await archiveBefore(h.test.db, {
          before: new Date(now).toISOString().slice(0, 10),
          dir: join(h.keyDir, 'archive'),
        });
        expect(days).toHaveLength(1);

        const host = {
          dataDir: h.keyDir,
          withDb: (fn: (db: typeof h.test.db) => Promise<void>) => fn(h.test.db),
        };
        const inspect = async (at: string | undefined, tenant?: string) => {
          const lines: string[] = [];
          await runInspectCommand(
            host,
            [stream],
            { at, tenant },
            (line) => lines.push(line),
            (m) => new Usage(m),
          );
          return lines.join('\n');
        };

        const atTwo = await inspect('2');
        expect(atTwo).toContain(
          'conversation-inspect-1 in demo: version 2 of 4; folded from the first event',
        );
        expect(atTwo).toMatch(/v1 {2}\S+Z {2}ConversationStarted {2}by \(no actor recorded\)/);
        expect(atTwo).not.toContain('InboundMessageReceived');
        expect(atTwo).toContain(`"name": "${NAME}"`);

        const beforeLabel = new Date(yesterday + 60_000).toISOString();
        const atTime = await inspect(beforeLabel, 'demo');
        expect(atTime).toContain('version 3 of 4');
        expect(atTime).toContain('"labels": []');
        const latest = await inspect(new Date(now + 60_000).toISOString());
        expect(latest).toContain('version 4 of 4');
        expect(latest).toMatch(/v4 {2}\S+Z {2}LabelAdded {2}by agent:ana/);
        expect(latest).toContain('"shipping"');
        expect(latest).toContain(`"text": "${TEXT}"`); // its timeline then

        await expect(inspect(undefined)).rejects.toBeInstanceOf(Usage);
        await expect(inspect('yesterday noon')).rejects.toBeInstanceOf(Usage);
        await expect(inspect('2', 'globex')).rejects.toThrow('globex has no stream conversation-inspect-1');
      } finally {
        await h.dispose();
      }
    },
  );
});
