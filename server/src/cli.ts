import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isRole, isTenantId, type TenantId } from '@parley/domain';
import { createAgent, createTenant } from './auth/accounts';
import {
  BACKUP_USAGE,
  backupTarget,
  isBackupRestore,
  runBackupCommand,
  runRestoreCommand,
} from './backup/cli';
import { refuseWhileRunning, RestoreError } from './backup/restore';
import { runWebhooksCommand, WEBHOOKS_USAGE } from './channels/cli';
import { loadConfig } from './config';
import { CONTACTS_EXPORT_USAGE, runContactsExportCommand, withAbsoluteOut } from './contacts/cli';
import {
  CRYPTO_USAGE,
  runContactsCommand,
  runKeysCommand,
  runRetentionCommand,
  secretBox,
} from './crypto/cli';
import { openDatabase, type Database } from './db/database';
import { liveHolder } from './db/dir-lock';
import { migrate, migrationState } from './db/migrator';
import { listPartitions } from './db/partitions';
import { FORWARDED_ENV, sendAdminCommand, type AdminRequest } from './ops/admin-socket';
import { INSPECT_USAGE, runInspectCommand } from './history/cli';
import { PROJECTIONS_USAGE, runProjectionsCommand } from './projections/cli';
import { archiveBefore, listSegments, restoreDay, type ArchiveProgress } from './store/archive';

const USAGE = `Usage: npm run parley -- <command> [options]

Commands:
  migrate                   apply pending migrations
  status                    show the database, migrations, partitions and archived days
  archive --before <date>   move day partitions older than <date> (YYYY-MM-DD, UTC) to DATA_DIR/archive
  restore <day>             put an archived day (YYYY-MM-DD) back into the database
  tenant create <id> --name <name>
                            add a tenant (id: lowercase letters, digits and hyphens)
  agent create --tenant <id> --email <email> --name <name> [--role agent|admin] [--password <pw>]
                            add an agent who signs in with that email (a password is generated
                            and printed when --password is left out; PARLEY_PASSWORD works too)
${WEBHOOKS_USAGE}
${CRYPTO_USAGE}
${CONTACTS_EXPORT_USAGE}
${PROJECTIONS_USAGE}
${INSPECT_USAGE}
${BACKUP_USAGE}

The database is DATABASE_URL's PostgreSQL server, or the embedded one under DATA_DIR (./data).
The embedded database belongs to one process: while Parley runs on it, these commands are sent to
that process over its admin socket (DATA_DIR/parley.sock; only the user who runs Parley may use it).`;

export class UsageError extends Error {}

/**
 * Where a command runs: this process opening the database, or (over the admin socket) the running
 * server lending its own. Every command has one implementation, in `runCli`, for both.
 */
export interface CommandHost {
  readonly dataDir: string;
  /** The CLI user's environment variables that commands read (FORWARDED_ENV). */
  readonly env: AdminRequest['env'];
  readonly withDb: (fn: (db: Database) => Promise<void>) => Promise<void>;
}

/** Runs one CLI command; `print` receives what a person should read. */
export async function runCli(
  argv: readonly string[],
  print: (line: string) => void = console.log,
  host?: CommandHost,
): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      before: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
      'grace-hours': { type: 'string' },
      contact: { type: 'string' },
      conversation: { type: 'string' },
      reason: { type: 'string' },
      out: { type: 'string' },
      at: { type: 'string' },
      force: { type: 'boolean' },
      'without-keys': { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    print(USAGE);
    return;
  }
  // Progress bars go to our own stderr; over the admin socket they come back as printed lines.
  const progress = host === undefined ? process.stderr : undefined;
  const inServer = host !== undefined;
  if (host === undefined) {
    const config = loadConfig();
    const env = Object.fromEntries(
      FORWARDED_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
    );
    // The embedded database is held by a running Parley: it runs the command for us.
    const holder = config.databaseUrl ? undefined : liveHolder(config.dataDir);
    if (holder !== undefined) {
      if (command === 'restore' && isBackupRestore(rest[0])) refuseWhileRunning(config.dataDir);
      // The running server writes the backup: give it the path where this person asked for it.
      const args =
        command === 'backup'
          ? ['backup', backupTarget(rest[0]), ...argv.filter((a) => a.startsWith('--'))]
          : argv;
      const request = { argv: withAbsoluteOut(args), env };
      return sendAdminCommand(config.dataDir, holder, request, print).catch((error: unknown) => {
        throw (error as { usage?: boolean }).usage ? new UsageError((error as Error).message) : error;
      });
    }
    host = { dataDir: config.dataDir, env, withDb: (fn) => withOwnDb(config, print, fn) };
  }
  const { env, withDb } = host;
  const archiveDir = join(host.dataDir, 'archive');
  switch (command) {
    case 'migrate':
      await withDb(async (db) => {
        const state = await migrationState(db.sql);
        print(`${state.applied.length} migrations applied, ${state.pending.length} pending (${db.location})`);
      });
      return;
    case 'status':
      await withDb(async (db) => {
        const state = await migrationState(db.sql);
        const partitions = await listPartitions(db.sql);
        const segments = await listSegments(db);
        print(`database:   ${db.kind} at ${db.location}`);
        print(`migrations: ${state.applied.length} applied, ${state.pending.length} pending`);
        if (db.kind === 'postgres') {
          // SB: each running Parley process keeps one LISTEN connection; a missing one polls instead.
          const [{ n } = { n: 0 }] = await db.sql.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND query ILIKE 'LISTEN %'`,
          );
          print(`listening:  ${n} process(es) hold a LISTEN connection for wake-ups`);
        }
        print(
          `partitions: ${partitions.length} days, ${partitions[0] ?? '-'} to ${partitions.at(-1) ?? '-'}`,
        );
        print(
          `archived:   ${segments.length === 0 ? 'none' : segments.map((s) => `${s.day} (${s.row_count} events)`).join(', ')}`,
        );
      });
      return;
    case 'archive': {
      const before = values.before;
      if (!before) throw new UsageError('archive needs --before <YYYY-MM-DD>');
      await withDb(async (db) => {
        const days = await archiveBefore(db, { before, dir: archiveDir, onProgress: progressPrinter(print) });
        print(
          days.length === 0
            ? `nothing to archive before ${before}`
            : `archived ${days.length} day(s) to ${archiveDir}`,
        );
      });
      return;
    }
    case 'backup':
      await runBackupCommand(
        host,
        rest[0],
        { withoutKeys: values['without-keys'] === true, databaseUrl: loadConfig().databaseUrl },
        print,
        progress,
      );
      return;
    case 'restore': {
      if (isBackupRestore(rest[0])) {
        // Never in a running server (sent to its admin socket): it has the files open.
        if (inServer)
          throw new RestoreError(
            `Parley is running on ${host.dataDir}: stop it before restoring a backup; nothing was changed`,
          );
        await runRestoreCommand(
          host.dataDir,
          rest[0]!,
          { force: values.force === true, databaseUrl: loadConfig().databaseUrl },
          print,
          progress,
        );
        return;
      }
      const day = rest[0];
      if (!day) throw new UsageError('restore needs a day: restore <YYYY-MM-DD>');
      await withDb(async (db) => {
        const rows = await restoreDay(db, { day, dir: archiveDir, onProgress: progressPrinter(print) });
        print(`restored ${day}: ${rows} events are back in the database`);
      });
      return;
    }
    case 'tenant': {
      if (rest[0] !== 'create' || !rest[1] || !values.name) {
        throw new UsageError('usage: tenant create <id> --name <name>');
      }
      const id = checkedTenantId(rest[1]);
      const name = values.name;
      await withDb(async (db) => {
        await createTenant(db.sql, id, name);
        print(`created tenant ${id} (${name})`);
      });
      return;
    }
    case 'agent': {
      const { tenant, email, name } = values;
      const role = values.role ?? 'agent';
      if (rest[0] !== 'create' || !tenant || !email || !name || !isRole(role)) {
        throw new UsageError(
          'usage: agent create --tenant <id> --email <email> --name <name> [--role agent|supervisor|admin] [--password <pw>]',
        );
      }
      const given = values.password ?? env.PARLEY_PASSWORD;
      const password = given ?? randomBytes(12).toString('base64url');
      await withDb(async (db) => {
        const agent = await createAgent(db.sql, checkedTenantId(tenant), { email, name, role, password });
        print(`created ${agent.role} ${agent.name} <${agent.email}> in ${agent.tenantId} (id ${agent.id})`);
        if (given === undefined) print(`password: ${password}  (shown once; keep it somewhere safe)`);
      });
      return;
    }
    case 'webhooks':
      await withDb((db) =>
        runWebhooksCommand(
          db.sql,
          rest,
          { tenant: values.tenant, graceHours: values['grace-hours'] },
          print,
          (m) => new UsageError(m),
          secretBox(db, host.dataDir),
        ),
      );
      return;
    case 'keys':
      await runKeysCommand(host, rest, print, (m) => new UsageError(m));
      return;
    case 'contacts':
      if (rest[0] === 'export') {
        await runContactsExportCommand(host, values, print, progress, (m) => new UsageError(m));
        return;
      }
      await runContactsCommand(host, rest, values, print, (m) => new UsageError(m));
      return;
    case 'retention':
      await runRetentionCommand(host, rest, values.tenant, print, (m) => new UsageError(m));
      return;
    case 'projections':
      await runProjectionsCommand(host, rest, values.tenant, print, progress, (m) => new UsageError(m));
      return;
    case 'inspect':
      await runInspectCommand(host, rest, values, print, (m) => new UsageError(m));
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

/** Opens the database in this process (migrating it) for one command. */
async function withOwnDb(
  config: ReturnType<typeof loadConfig>,
  print: (line: string) => void,
  fn: (db: Database) => Promise<void>,
): Promise<void> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(db.sql, undefined, (name) => print(`applied migration ${name}`));
    await fn(db);
  } finally {
    await db.close();
  }
}

/** A tenant id from the command line, or a usage error saying what one looks like. */
function checkedTenantId(value: string): TenantId {
  if (!isTenantId(value)) {
    throw new UsageError(
      `tenant id ${JSON.stringify(value)} is malformed: use 1-48 lowercase letters, digits and inner hyphens`,
    );
  }
  return value;
}

/** One line per day and one every 10% within a long day, so a long archive shows it is alive. */
function progressPrinter(print: (line: string) => void): (p: ArchiveProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const decile = p.totalRows === 0 ? 10 : Math.floor((p.rows / p.totalRows) * 10);
    if (p.done) {
      print(`  ${p.day}: ${p.rows} events done (${p.dayIndex + 1}/${p.days})`);
      lastDecile = -1;
    } else if (decile !== lastDecile) {
      print(`  ${p.day}: ${p.rows}/${p.totalRows} events (${decile * 10}%)`);
      lastDecile = decile;
    }
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`parley: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
