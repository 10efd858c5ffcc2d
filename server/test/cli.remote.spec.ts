import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../src/auth/accounts';
import { openDatabase } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { addDays, utcDay } from '../src/db/partitions';
import { ADMIN_SOCKET, ADMIN_TOKEN } from '../src/ops/admin-socket';
import { SqlEventStore } from '../src/store/sql-store';
import { httpClient } from './api.support';
import { cli, startServer } from './support/cli';

/** Sends one raw request line to the admin socket and returns every line of the answer. */
function rawRequest(path: string, line: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('error', reject);
    socket.once('close', () => resolve(text.split('\n').filter(Boolean)));
    socket.write(`${line}\n`);
  });
}

describe('the CLI while Parley runs on the embedded database (admin socket)', () => {
  const old = addDays(utcDay(Date.now()), -3);
  let dataDir: string;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    chmodSync(dataDir, 0o755); // others may enter DATA_DIR: the socket's and token's own modes must keep them out
    // Two events on a day three days ago, so `archive` has a day to move while the server runs.
    const db = await openDatabase({ dataDir });
    await migrate(db.sql);
    await createTenant(db.sql, tenantId('cli-old'), 'Old Days');
    const store = await SqlEventStore.open({
      db,
      archiveDir: join(dataDir, 'archive'),
      clock: () => Date.parse(`${old}T10:00:00Z`),
    });
    await store.append(
      tenantId('cli-old'),
      streamId('conversation-old'),
      [
        { type: 'Old', data: { n: 1 } },
        { type: 'Old', data: { n: 2 } },
      ],
      { expectedVersion: 0 },
    );
    await store.close();
    await db.close();
    server = await startServer(dataDir);
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('[CLI] agent create runs in the running server, and the agent signs in through its API', async () => {
    // PARLEY_PASSWORD is the CLI user's, carried to the server (whose own environment lacks it).
    const password = 'cli-remote-password-1';
    const created = await cli(
      dataDir,
      ['agent', 'create', '--tenant', 'demo', '--email', 'Cleo@demo.parley.test', '--name', 'Cleo Remote'],
      { env: { PARLEY_PASSWORD: password } },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^created agent Cleo Remote <cleo@demo\.parley\.test> in demo \(id \S+\)\n$/,
    );

    const client = httpClient(`${server.url}/trpc`);
    await client.trpc.auth.signIn.mutate({ tenantId: 'demo', email: 'cleo@demo.parley.test', password });
    const me = await client.trpc.auth.me.query();
    expect(me.agent).toMatchObject({ name: 'Cleo Remote' });

    // Without a password, one is generated and printed once, as when the CLI runs alone.
    const generated = await cli(dataDir, [
      'agent',
      'create',
      '--tenant',
      'demo',
      '--email',
      'dora@demo.parley.test',
      '--name',
      'Dora',
    ]);
    expect(generated.code).toBe(0);
    const shown = /password: (\S+) {2}\(shown once/.exec(generated.stdout)?.[1];
    expect(shown).toBeDefined();
    await httpClient(`${server.url}/trpc`).trpc.auth.signIn.mutate({
      tenantId: 'demo',
      email: 'dora@demo.parley.test',
      password: shown!,
    });
  });

  it('[CLI] status, archive (with progress) and restore run against the running server', async () => {
    const status = await cli(dataDir, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`database:   pglite at ${join(dataDir, 'pglite')}\n`);
    expect(status.stdout).toContain(`partitions: `);
    expect(status.stdout).toContain('archived:   none\n');

    const archived = await cli(dataDir, ['archive', '--before', addDays(old, 1)]);
    expect(archived.stderr).toBe('');
    expect(archived.code).toBe(0);
    // Progress lines stream as the server prints them, then the summary: the CLI's own output.
    expect(archived.stdout).toBe(
      `  ${old}: 2/2 events (100%)\n  ${old}: 2 events done (1/1)\narchived 1 day(s) to ${join(dataDir, 'archive')}\n`,
    );
    expect(existsSync(join(dataDir, 'archive', `events-${old}.ndjson.gz`))).toBe(true);
    expect((await cli(dataDir, ['status'])).stdout).toContain(`archived:   ${old} (2 events)\n`);

    const restored = await cli(dataDir, ['restore', old]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`restored ${old}: 2 events are back in the database\n`);

    // The server's own errors come back as the CLI's: a day that is not archived.
    const missing = await cli(dataDir, ['restore', '2001-01-01']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^parley: day 2001-01-01 is not archived/);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('[CLI] refuses an unknown or malformed command with the usage (exit 2), changing nothing', async () => {
    const unknown = await cli(dataDir, ['drop-everything']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^parley: unknown command "drop-everything"\n\nUsage: npm run parley/);
    const malformed = await cli(dataDir, ['agent', 'create', '--tenant', 'demo']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^parley: usage: agent create --tenant <id>/);
    const webhooks = await cli(dataDir, ['webhooks', 'replay', '424242']);
    expect(webhooks.code).toBe(2);
    expect(webhooks.stderr).toContain('#424242 is not a dead letter');
  });

  it('[CLI] only the user who runs Parley may use the socket: the files are 0600 and a wrong token is refused', async () => {
    const socket = join(dataDir, ADMIN_SOCKET);
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, ADMIN_TOKEN)).mode & 0o777).toBe(0o600);

    const argv = [
      'agent',
      'create',
      '--tenant',
      'demo',
      '--email',
      'mallory@demo.parley.test',
      '--name',
      'M',
    ];
    const answer = await rawRequest(
      socket,
      JSON.stringify({ token: 'guessed', argv, env: { PARLEY_PASSWORD: 'x'.repeat(20) } }),
    );
    expect(answer).toEqual([JSON.stringify({ error: 'refused: wrong admin token', usage: false })]);
    expect(await rawRequest(socket, 'not json')).toEqual([
      JSON.stringify({ error: 'refused: the request is not JSON', usage: false }),
    ]);
  });

  it.skipIf(!otherUserCanRunTheCli())(
    "[CLI] another user's process, without access to the token file or socket, is refused",
    async () => {
      const nobody = 65534;
      const refused = await cli(
        dataDir,
        ['agent', 'create', '--tenant', 'demo', '--email', 'mallory@demo.parley.test', '--name', 'Mallory'],
        { uid: nobody, gid: nobody, env: { PARLEY_PASSWORD: 'mallory-password-123', HOME: tmpdir() } },
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/in use by Parley process \d+; this user may not use its admin socket/);
      expect(refused.stderr).toContain('permission denied');
      const client = httpClient(`${server.url}/trpc`);
      await expect(
        client.trpc.auth.signIn.mutate({
          tenantId: 'demo',
          email: 'mallory@demo.parley.test',
          password: 'mallory-password-123',
        }),
      ).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    },
  );

  it('[CLI] the socket is removed on shutdown, and a stale socket file is replaced at the next start', async () => {
    expect(await server.stop()).toBe(0);
    expect(existsSync(join(dataDir, ADMIN_SOCKET))).toBe(false);
    expect(existsSync(join(dataDir, ADMIN_TOKEN))).toBe(false);

    writeFileSync(join(dataDir, ADMIN_SOCKET), 'left behind by a crash');
    writeFileSync(join(dataDir, ADMIN_TOKEN), 'an old token');
    server = await startServer(dataDir);
    const status = await cli(dataDir, ['status']);
    expect(status.stderr).toBe('');
    expect(status.stdout).toContain(`database:   pglite at ${join(dataDir, 'pglite')}\n`);
  }, 90_000);
});

/**
 * Whether this run can act as another user (`nobody`) who can still start the CLI: root, with the
 * checkout readable by others (a clone under a 0700 temporary folder is not, and proves nothing).
 */
function otherUserCanRunTheCli(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e', '0'], {
    uid: 65534,
    gid: 65534,
    cwd: process.cwd(),
    stdio: 'ignore',
  });
  return probe.status === 0;
}
