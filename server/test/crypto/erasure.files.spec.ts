import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { streamFor, tenantId, type ClientCommand, type TenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttachments, type StoredAttachment } from '../../src/attachments';
import { diskBlobStore } from '../../src/attachments/blob-store';
import { recordFileOwners } from '../../src/attachments/owners';
import { replyFileErased } from '../../src/attachments/reply-check';
import { withTenant } from '../../src/auth/tenant-scope';
import { runCli } from '../../src/cli';
import { eraseContact, type ErasureRequest } from '../../src/crypto/erasure';
import { ERASED } from '../../src/crypto/event-codec';
import { API_BACKENDS, type ApiHarness, type Caller } from '../api.support';
import { openHttpHarness, type HttpHarness } from '../support/http-sessions';

// Erasing a contact reaches the bytes of their stored files (#18, decision 0022): a file only their
// conversations name is deleted from the blob store, one another contact's conversation names stays.

const demo = tenantId('demo');
const globex = tenantId('globex');
const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const png = (label: string) => Buffer.concat([PNG_HEAD, Buffer.from(`IHDR ${label} ${Date.now()}`)]);

describe.each(API_BACKENDS)("erasing a contact deletes their files' bytes on %s", (kind, enabled) => {
  let served: HttpHarness;
  let h: ApiHarness;
  let base = '';
  let ana = '';
  let gus = '';
  let admin: Caller;
  let agent: Caller;
  let sequence = 0;

  beforeAll(async () => {
    if (!enabled) return;
    served = await openHttpHarness(kind);
    ({ h, base } = served);
    ({ caller: agent, cookie: ana } = await served.session('ana@demo.parley.test'));
    gus = (await served.session('gus@globex.parley.test')).cookie;
    admin = (await served.session('ada@demo.parley.test')).caller;
  });
  afterAll(async () => {
    if (!enabled) return;
    await served.dispose();
  });

  const store = (bytes: Buffer, tenant: TenantId = demo) =>
    h.services.attachments.upload(tenant, Readable.from([bytes]), {
      claimedMime: 'image/png',
      name: 'photo.png',
    });
  const media = (file: StoredAttachment) => ({
    type: 'media' as const,
    media: { kind: 'image' as const, url: file.url, mime: file.mime, size: file.size },
    caption: 'the parcel',
  });
  /** A conversation of its own contact, opened by the customer's message (a file, or text). */
  const conversation = (id: string, file?: StoredAttachment) =>
    h.services.grains.conversation(demo, id).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: id,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `wamid.${id}`,
        contact: { id: `contact-${id}`, name: `Contact ${id}`, handle: id },
        content: file ? media(file) : { type: 'text', text: 'hello' },
        sentAt: h.now() - 1000,
      },
    });
  const reply = async (conversationId: string, file: StoredAttachment) => {
    const command: ClientCommand = {
      type: 'QueueReply',
      clientMessageId: `reply-${++sequence}`,
      content: media(file),
      tag: null,
    };
    const { answers } = await agent.conversations.commandBatch({
      clientId: 'erasure-files-spec',
      commands: [{ sequence, conversationId, command }],
    });
    expect(answers[0]).toMatchObject({ status: 'accepted' });
  };
  /** A file stored and sent in a reply, in a new conversation of its own contact. */
  const sent = async (conversationId: string, bytes: Buffer) => {
    const file = await store(bytes);
    await conversation(conversationId);
    await reply(conversationId, file);
    return file;
  };
  const status = async (hash: string, cookie = ana) => {
    const response = await fetch(`${base}/api/attachments/${hash}`, { headers: { cookie } });
    await response.body?.cancel();
    return response.status;
  };
  const bytesOf = async (hash: string) =>
    Buffer.from(
      await (await fetch(`${base}/api/attachments/${hash}`, { headers: { cookie: ana } })).arrayBuffer(),
    );
  const onDisk = (hash: string, tenant = 'demo') =>
    existsSync(join(h.services.config.dataDir, 'attachments', tenant, hash.slice(0, 2), hash));
  const owners = (tenant: TenantId = demo) =>
    withTenant(h.services.db.sql, tenant, (tx) =>
      tx.query<{ sha256: string; conversation_id: string }>(
        'SELECT sha256, conversation_id FROM attachment_owners ORDER BY conversation_id, sha256',
      ),
    );
  const queued = () =>
    h.services.db.sql.query<{ sha256: string }>('SELECT sha256 FROM attachment_erasures ORDER BY sha256');
  const erasure = (conversationId: string): ErasureRequest => ({
    tenantId: demo,
    contact: { conversationId },
    reason: 'the customer asked to be forgotten',
    erasedBy: 'ada',
    at: h.now(),
  });

  it.skipIf(!enabled)(
    "[18-EF1] a reply naming a stored file records the file's conversation in the reply's own transaction",
    async () => {
      const file = await sent('ef-owned', png('owned'));
      expect(await owners()).toContainEqual({ sha256: file.sha256, conversation_id: 'ef-owned' });
    },
  );

  it.skipIf(!enabled)(
    "[18-EF2] contacts.erase deletes the bytes of the files only the contact's conversations name (a customer's and a reply's), and a GET or a signed link answers 404; a file another contact's conversation names stays",
    async () => {
      const fromCustomer = await store(png('from the customer'));
      const toCustomer = await store(png('to the customer'));
      const shared = await store(png('shared'));
      const sharedBytes = await bytesOf(shared.sha256);
      // The customer's file is named by a message recorded without an owner row (as before this
      // change): the erasure finds it in the conversation's events before destroying their keys.
      await conversation('ef-erased', fromCustomer);
      await reply('ef-erased', toCustomer);
      await reply('ef-erased', shared);
      await conversation('ef-other');
      await reply('ef-other', shared);
      for (const file of [fromCustomer, toCustomer, shared]) expect(await status(file.sha256)).toBe(200);
      const link = h.services.attachments.linkPath('demo', toCustomer.sha256);

      await admin.contacts.erase({ conversationId: 'ef-erased', reason: 'GDPR art. 17 request' });

      for (const file of [fromCustomer, toCustomer]) {
        expect(await status(file.sha256)).toBe(404);
        expect(onDisk(file.sha256)).toBe(false);
        expect(await h.services.attachments.find(demo, file.sha256)).toBeNull();
      }
      const linked = await fetch(`${base}${link}`);
      expect(linked.status).toBe(404);
      expect(await linked.json()).toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
      expect(await status(shared.sha256)).toBe(200);
      expect((await bytesOf(shared.sha256)).equals(sharedBytes)).toBe(true);
      expect(onDisk(shared.sha256)).toBe(true);
      const rows = await owners();
      expect(rows.filter((row) => row.conversation_id === 'ef-erased')).toEqual([]);
      expect(rows).toContainEqual({ sha256: shared.sha256, conversation_id: 'ef-other' });
      expect(await queued()).toEqual([]);
      const conversationNow = JSON.stringify(await admin.conversations.get({ conversationId: 'ef-erased' }));
      expect(conversationNow).toContain(ERASED);
      expect(conversationNow).not.toContain(toCustomer.sha256);
    },
  );

  it.skipIf(!enabled)(
    "[18-EF3] another tenant can neither read a tenant's file nor delete it, through the service or row-level security",
    async () => {
      const file = await sent('ef-tenant', png('tenant demo only'));
      expect(await status(file.sha256, gus)).toBe(404);
      expect(await h.services.attachments.releaseConversations(globex, ['ef-tenant'])).toEqual([]);
      const deleted = await withTenant(h.services.db.sql, globex, async (tx) => ({
        files: await tx.query('DELETE FROM attachments WHERE sha256 = $1 RETURNING sha256', [file.sha256]),
        owners: await tx.query('DELETE FROM attachment_owners WHERE sha256 = $1 RETURNING sha256', [
          file.sha256,
        ]),
        queued: await tx
          .query(`INSERT INTO attachment_erasures (tenant_id, sha256) VALUES ('demo', $1)`, [file.sha256])
          .then(
            () => 'inserted',
            (error: unknown) => String(error),
          ),
      }));
      expect(deleted.files).toEqual([]);
      expect(deleted.owners).toEqual([]);
      expect(deleted.queued).toMatch(/row-level security/);
      expect(await status(file.sha256)).toBe(200);
      expect(await owners()).toContainEqual({ sha256: file.sha256, conversation_id: 'ef-tenant' });
    },
  );

  it.skipIf(!enabled)(
    '[18-EF4] an erasure cut short after the files were given up (the bytes not yet deleted) serves nothing, and the next start deletes the bytes',
    async () => {
      const file = await sent('ef-crash-bytes', png('crash while deleting'));
      const crashing = createAttachments({
        sql: h.services.db.sql,
        store: {
          ...diskBlobStore(join(h.services.config.dataDir, 'attachments')),
          delete: () => Promise.reject(new Error('the process died here')),
        },
        incomingDir: join(h.services.config.dataDir, 'attachments', '.incoming'),
        linkKey: createHmac('sha256', 'test').digest(),
      });
      await expect(
        eraseContact({ ...h.services, attachments: crashing }, erasure('ef-crash-bytes')),
      ).rejects.toThrow('the process died here');
      expect(await status(file.sha256)).toBe(404);
      expect(onDisk(file.sha256)).toBe(true);
      expect(await queued()).toEqual([{ sha256: file.sha256 }]);

      expect(await h.services.attachments.drain()).toEqual([file.sha256]); // what a start does
      expect(onDisk(file.sha256)).toBe(false);
      expect(await queued()).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    '[18-EF5] an erasure cut short after the keys were destroyed, before the files, completes when run again',
    async () => {
      const file = await sent('ef-crash-keys', png('crash before the files'));
      const first = eraseContact(
        {
          ...h.services,
          attachments: { releaseConversations: () => Promise.reject(new Error('the process died here')) },
        },
        erasure('ef-crash-keys'),
      );
      await expect(first).rejects.toThrow('the process died here');
      expect(JSON.stringify(await admin.conversations.get({ conversationId: 'ef-crash-keys' }))).toContain(
        ERASED,
      );

      const again = await eraseContact(h.services, erasure('ef-crash-keys'));
      expect(again).toMatchObject({ keysDestroyed: 0, filesDeleted: 1 });
      expect(await status(file.sha256)).toBe(404);
      expect(onDisk(file.sha256)).toBe(false);
      expect(await owners()).not.toContainEqual(
        expect.objectContaining({ conversation_id: 'ef-crash-keys' }),
      );
      // Once more changes nothing and fails on nothing.
      expect(await eraseContact(h.services, erasure('ef-crash-keys'))).toMatchObject({ filesDeleted: 0 });
    },
  );

  it.skipIf(!enabled)(
    '[18-EF6] the same bytes uploaded again after an erasure are stored and served anew',
    async () => {
      const bytes = png('sent again');
      const file = await store(bytes);
      await conversation('ef-again');
      await reply('ef-again', file);
      await eraseContact(h.services, erasure('ef-again'));
      expect(await status(file.sha256)).toBe(404);
      expect((await store(bytes)).sha256).toBe(file.sha256);
      expect((await bytesOf(file.sha256)).equals(bytes)).toBe(true);
      expect(onDisk(file.sha256)).toBe(true);
    },
  );

  it.skipIf(!enabled)(
    "[18-EF9] a file stored before owners were recorded, sent by another contact too, survives: the erasure reads the tenant's conversations once",
    async () => {
      const file = await store(png('stored before owners'));
      // Two customers' messages name it, recorded without owner rows, as before the migration.
      await conversation('ef-older-a', file);
      await conversation('ef-older-b', file);
      await h.services.db.sql.query(
        `UPDATE attachments SET owners_known = false WHERE tenant_id = 'demo' AND sha256 = $1`,
        [file.sha256],
      );
      expect((await owners()).filter((row) => row.sha256 === file.sha256)).toEqual([]);

      await eraseContact(h.services, erasure('ef-older-a'));

      expect(await status(file.sha256)).toBe(200);
      expect(onDisk(file.sha256)).toBe(true);
      expect((await owners()).filter((row) => row.sha256 === file.sha256)).toEqual([
        { sha256: file.sha256, conversation_id: 'ef-older-b' },
      ]);
      const known = await h.services.db.sql.query<{ owners_known: boolean }>(
        `SELECT owners_known FROM attachments WHERE tenant_id = 'demo' AND sha256 = $1`,
        [file.sha256],
      );
      expect(known).toEqual([{ owners_known: true }]);
      // Once its last contact is erased too, it goes.
      await eraseContact(h.services, erasure('ef-older-b'));
      expect(await status(file.sha256)).toBe(404);
      expect(onDisk(file.sha256)).toBe(false);
    },
  );

  it.skipIf(!enabled)(
    '[18-EF10] a reply whose file an erasure deleted after the reply was checked is refused in its own transaction, and records nothing',
    async () => {
      const file = await sent('ef-raced', png('deleted while a reply names it'));
      await eraseContact(h.services, erasure('ef-raced'));
      await conversation('ef-racing');
      // What the reply's transaction does once its events are written, the file having gone since.
      const recording = h.services.db.sql.transaction((tx) =>
        recordFileOwners(
          tx,
          {
            tenantId: demo,
            streamId: streamFor('conversation', 'ef-racing'),
            events: [{ data: { content: media(file) }, recordedAt: h.now() }],
          },
          replyFileErased,
        ),
      );
      await expect(recording).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
      expect((await owners()).filter((row) => row.sha256 === file.sha256)).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    "[18-EF11] `contacts erase` in the CLI deletes the contact's files too, and says how many",
    async () => {
      const file = await sent('ef-cli', png('erased from the command line'));
      const lines: string[] = [];
      await runCli(
        ['contacts', 'erase', '--tenant', 'demo', '--conversation', 'ef-cli', '--reason', 'asked by mail'],
        (line) => lines.push(line),
        { dataDir: h.services.config.dataDir, env: {}, withDb: (fn) => fn(h.services.db) },
      );
      expect(lines).toEqual([expect.stringMatching(/^erased: 2 key\(s\) destroyed, 1 file\(s\) deleted, /)]);
      expect(await status(file.sha256)).toBe(404);
      expect(onDisk(file.sha256)).toBe(false);
    },
  );

  // Last: it sets the demo tenant's retention, which the tests above must not see.
  it.skipIf(!enabled)(
    '[18-EF7] the retention sweep deletes a file whose every naming message is in a week past the limit, and keeps one a newer message names',
    async () => {
      const old = await store(png('old weeks only'));
      const renamed = await store(png('named again since'));
      await conversation('ef-old');
      await reply('ef-old', old);
      await reply('ef-old', renamed);
      await conversation('ef-recent');
      await reply('ef-recent', renamed);
      // Those messages are made 20 weeks old, their week's key with them, as if time had passed.
      await h.services.db.sql.query(
        `UPDATE contact_keys SET period = period - 140 WHERE tenant_id = 'demo' AND stream_id = 'conversation-ef-old' AND period IS NOT NULL`,
      );
      await h.services.db.sql.query(
        `UPDATE attachment_owners SET named_at = named_at - interval '140 days' WHERE tenant_id = 'demo' AND conversation_id = 'ef-old'`,
      );
      await admin.admin.settings.setRetention({ days: 90 });
      await h.services.retentionSweeper.sweep();

      expect(await status(old.sha256)).toBe(404);
      expect(onDisk(old.sha256)).toBe(false);
      expect(await status(renamed.sha256)).toBe(200);
      expect(onDisk(renamed.sha256)).toBe(true);
      const rows = await owners();
      expect(rows.filter((row) => row.sha256 === old.sha256)).toEqual([]);
      expect(rows).toContainEqual({ sha256: renamed.sha256, conversation_id: 'ef-old' });
    },
  );
});
