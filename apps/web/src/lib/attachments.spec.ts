import { afterEach, describe, expect, it } from 'vitest';
import { whatsapp, type ClientCommand } from '@parley/domain';
import { keepFile, localFile, readPickedFile, uploadFilesOf, type LocalFile } from './attachments';
import { ParleyDb, type OutboxRow } from './db/schema';

// A reply's file goes up by hash before the reply (decision 0027): once uploaded it leaves the
// device; a server or network failure keeps it and fails the batch, to be tried again.

const dbs: ParleyDb[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});
const openDb = () => {
  const db = new ParleyDb(`attachments-${Math.random()}`);
  dbs.push(db);
  return db;
};
const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const file = (sha256: string): LocalFile => ({
  sha256,
  blob: new Blob([new Uint8Array(PNG_HEAD)], { type: 'image/png' }),
  name: 'label.png',
  mime: 'image/png',
  size: PNG_HEAD.length,
});
const row = (url: string): OutboxRow => {
  const command: ClientCommand = {
    type: 'QueueReply',
    clientMessageId: `r-${url}`,
    content: { type: 'media', media: { kind: 'image', url, mime: 'image/png', size: 8 }, caption: null },
    tag: null,
  };
  return {
    clientMessageId: `r-${url}`,
    conversationId: 'demo-1',
    command,
    agentId: 'ana',
    createdAt: 0,
    attempts: 0,
    lastError: null,
    refusal: null,
  };
};
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('uploading a batch’s files', () => {
  it('PUTs each waiting file by its hash, then forgets it; a file the device no longer holds is not sent', async () => {
    const db = openDb();
    await keepFile(db, file(A));
    const calls: string[] = [];
    await uploadFilesOf(
      db,
      [row(`attachment:${A}`), row(`attachment:${B}`), row('https://cdn.example/x.png')],
      undefined,
      (input, init) => {
        calls.push(`${init?.method} ${input instanceof Request ? input.url : input.toString()}`);
        return Promise.resolve(new Response('{}', { status: 201 }));
      },
    );
    expect(calls).toEqual([`PUT /api/attachments/${A}`]);
    expect(await localFile(db, A)).toBeUndefined();
  });

  it('keeps the file and throws on a 5xx or a lost connection, so the batch waits and retries', async () => {
    const db = openDb();
    await keepFile(db, file(A));
    await expect(
      uploadFilesOf(db, [row(`attachment:${A}`)], undefined, () =>
        Promise.resolve(new Response('', { status: 503 })),
      ),
    ).rejects.toThrow(/503/);
    await expect(
      uploadFilesOf(db, [row(`attachment:${A}`)], undefined, () =>
        Promise.reject(new TypeError('Failed to fetch')),
      ),
    ).rejects.toThrow();
    expect(await localFile(db, A)).toBeDefined();
  });
});

describe('reading a picked file', () => {
  it('[PL5] takes its type from its bytes and refuses what WhatsApp would (WA5)', async () => {
    const png = new File([new Uint8Array([...PNG_HEAD, 1, 2, 3])], 'photo.pdf', { type: 'application/pdf' });
    const read = await readPickedFile(png, whatsapp);
    expect(read).toMatchObject({ ok: true, media: { kind: 'image', mime: 'image/png', size: 11 } });
    const gif = new File([new TextEncoder().encode('GIF89a....')], 'a.gif', { type: 'image/gif' });
    expect(await readPickedFile(gif, whatsapp)).toMatchObject({
      ok: false,
      message: /does not accept image\/gif/,
    });
  });
});
