import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * The admin socket: how `npm run parley -- <command>` reaches a Parley process that holds the
 * embedded database (one process owns PGlite and DATA_DIR's lock, so the CLI cannot open it).
 *
 * A Unix domain socket `DATA_DIR/parley.sock` (mode 0600, no TCP) plus a random token in
 * `DATA_DIR/parley.sock.token` (mode 0600): only the user who runs Parley can connect and read the
 * token. The protocol is JSON lines: the CLI sends one request line `{ token, argv, env }`; the
 * server answers `{ out }` lines as the command prints (progress streams), then one final
 * `{ ok: true }` or `{ error, usage }`. The transport carries arguments and output only: the
 * command itself is the CLI's (`runCli`), run with the server's database.
 */
export const ADMIN_SOCKET = 'parley.sock';
export const ADMIN_TOKEN = 'parley.sock.token';

/** The environment variables a command may read, carried from the CLI's process. */
export const FORWARDED_ENV = ['PARLEY_PASSWORD'] as const;

export interface AdminRequest {
  readonly argv: readonly string[];
  readonly env: Readonly<Partial<Record<(typeof FORWARDED_ENV)[number], string>>>;
}

type Answer =
  { readonly out: string } | { readonly ok: true } | { readonly error: string; readonly usage: boolean };

/** Runs one request; rejects with an error (`usage` true for a malformed command) to refuse it. */
export type AdminHandler = (request: AdminRequest, print: (line: string) => void) => Promise<void>;

export interface AdminSocket {
  readonly path: string;
  /** Stops accepting, removes the socket and token files, and waits (up to `timeoutMs`) for running commands. */
  close(timeoutMs?: number): Promise<void>;
}

const MAX_REQUEST_BYTES = 64 * 1024;

/** Listens on DATA_DIR/parley.sock, replacing a stale socket file (we hold DATA_DIR's lock). */
export async function startAdminSocket(
  dataDir: string,
  handle: AdminHandler,
  isUsageError: (error: unknown) => boolean,
): Promise<AdminSocket> {
  const path = join(dataDir, ADMIN_SOCKET);
  const tokenPath = join(dataDir, ADMIN_TOKEN);
  const token = randomBytes(32).toString('hex');
  // Our lock on DATA_DIR says no other process uses these files: a socket left by a crash is stale.
  rmSync(path, { force: true });
  const temporary = `${tokenPath}.${process.pid}`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, token, { mode: 0o600 });
  renameSync(temporary, tokenPath);

  const running = new Set<Promise<void>>();
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    socket.on('error', () => undefined); // a CLI that went away: nothing to tell it
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) refuse(socket, 'the request is too long');
        return;
      }
      socket.off('data', onData);
      const request = parseRequest(buffered.slice(0, newline), token);
      if (typeof request === 'string') return refuse(socket, request);
      const send = (answer: Answer) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(answer)}\n`);
      };
      const run = handle(request, (line) => send({ out: line })).then(
        () => send({ ok: true }),
        (error: unknown) =>
          send({ error: error instanceof Error ? error.message : String(error), usage: isUsageError(error) }),
      );
      running.add(run);
      void run.finally(() => {
        running.delete(run);
        socket.end();
      });
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600); // the token covers the moment before this

  let closing: Promise<void> | undefined;
  return {
    path,
    close(timeoutMs = 10_000) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        rmSync(path, { force: true });
        rmSync(tokenPath, { force: true });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...running]),
          new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
        for (const socket of connections) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

function refuse(socket: Socket, reason: string): void {
  socket.end(`${JSON.stringify({ error: `refused: ${reason}`, usage: false } satisfies Answer)}\n`);
}

/** The request, or why it is refused. */
function parseRequest(line: string, token: string): AdminRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'the request is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'the request is not a JSON object';
  const { token: given, argv, env } = value as Record<string, unknown>;
  const expected = Buffer.from(token);
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return 'wrong admin token';
  }
  if (!Array.isArray(argv) || !argv.every((a): a is string => typeof a === 'string')) {
    return 'argv must be a list of strings';
  }
  const forwarded: Record<string, string> = {};
  if (typeof env === 'object' && env !== null) {
    for (const name of FORWARDED_ENV) {
      const v = (env as Record<string, unknown>)[name];
      if (typeof v === 'string') forwarded[name] = v;
    }
  }
  return { argv, env: forwarded };
}

/** Why the CLI cannot reach the process holding DATA_DIR, in words. */
export class AdminUnreachable extends Error {}

/**
 * Sends a command to the Parley process `holder` that holds `dataDir`, printing its output as it
 * comes. Resolves when it succeeded; rejects with `{ message, usage }` as the server refused it.
 */
export async function sendAdminCommand(
  dataDir: string,
  holder: number,
  request: AdminRequest,
  print: (line: string) => void,
): Promise<void> {
  const path = join(dataDir, ADMIN_SOCKET);
  const tokenPath = join(dataDir, ADMIN_TOKEN);
  const busy = `${dataDir} is in use by Parley process ${holder}`;
  let token: string;
  try {
    token = readFileSync(tokenPath, 'utf8').trim();
  } catch (error) {
    throw unreachable(busy, tokenPath, error);
  }
  const socket = createConnection(path);
  socket.write(`${JSON.stringify({ token, argv: request.argv, env: request.env })}\n`);
  let buffered = '';
  let final: Answer | undefined;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const answer = JSON.parse(buffered.slice(0, newline)) as Answer;
        buffered = buffered.slice(newline + 1);
        if ('out' in answer) print(answer.out);
        else final = answer;
      }
    });
    socket.once('error', (error) => reject(unreachable(busy, path, error)));
    socket.once('close', () => resolve());
  });
  if (final === undefined) {
    throw new AdminUnreachable(`${busy}, which stopped before the command finished`);
  }
  if ('error' in final) throw Object.assign(new Error(final.error), { usage: final.usage });
}

function unreachable(busy: string, path: string, error: unknown): AdminUnreachable {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new AdminUnreachable(
      `${busy}; this user may not use its admin socket (${path}: permission denied): run the CLI as the user who runs Parley`,
    );
  }
  return new AdminUnreachable(
    `${busy}, which does not answer on its admin socket ${path} (${code ?? String(error)}): is it still starting, or an older Parley?`,
  );
}
