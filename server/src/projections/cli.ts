import { isTenantId, type TenantId } from '@parley/domain';
import type { Database } from '../db/database';
import { listSegments } from '../store/archive';
import { rebuildAnalytics } from './analytics';
import { openSealedStore } from '../crypto/open-store';

export const PROJECTIONS_USAGE = `  projections rebuild analytics [--tenant <id>]
                            delete the reporting tables' rows (of one tenant, or all) and replay the
                            event log from its start, archived days included; progress on stderr`;

/** Where the progress bar goes: a terminal gets one redrawn line, anything else plain lines. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

interface Host {
  readonly dataDir: string;
  readonly withDb: (fn: (db: Database) => Promise<void>) => Promise<void>;
}

/** `projections rebuild analytics [--tenant T]`. */
export async function runProjectionsCommand(
  host: Host,
  rest: readonly string[],
  tenant: string | undefined,
  print: (line: string) => void,
  progress: ProgressOutput | undefined,
  usage: (message: string) => Error,
): Promise<void> {
  if (rest[0] !== 'rebuild' || rest[1] !== 'analytics' || rest.length > 2) {
    throw usage(`usage:\n${PROJECTIONS_USAGE}`);
  }
  if (tenant !== undefined && !isTenantId(tenant))
    throw usage(`tenant id ${JSON.stringify(tenant)} is malformed`);
  const tenantId: TenantId | undefined = tenant;
  await host.withDb(async (db) => {
    const { store } = await openSealedStore(db, host.dataDir);
    try {
      const total = await countEvents(db, tenantId);
      const bar = progressBar(total, progress, print);
      const started = performance.now();
      const { events } = await rebuildAnalytics({
        store,
        db,
        tenantId,
        onProgress: (p) => bar(p.events, p.done),
      });
      const seconds = (performance.now() - started) / 1000;
      print(
        `rebuilt analytics for ${tenantId ?? 'all tenants'}: ${events} events in ${seconds.toFixed(1)} s`,
      );
    } finally {
      await store.close();
    }
  });
}

/**
 * The events a rebuild will read, for the bar: the live rows plus the archived days' rows. An
 * archived day's count is of all tenants, so a one-tenant rebuild over archives ends before 100%.
 */
async function countEvents(db: Database, tenantId: TenantId | undefined): Promise<number> {
  const [live] = await db.sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events${tenantId === undefined ? '' : ' WHERE tenant_id = $1'}`,
    tenantId === undefined ? [] : [tenantId],
  );
  const archived = (await listSegments(db)).reduce((sum, segment) => sum + Number(segment.row_count), 0);
  return (live?.n ?? 0) + archived;
}

/** A progress bar with an ETA: redrawn in place on a terminal, a plain line per 10% elsewhere. */
export function progressBar(
  total: number,
  output: ProgressOutput | undefined,
  print: (line: string) => void,
  now: () => number = () => performance.now(),
): (done: number, finished: boolean) => void {
  const started = now();
  let lastDecile = -1;
  return (done, finished) => {
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const elapsed = (now() - started) / 1000;
    const eta = fraction > 0 && !finished ? (elapsed / fraction) * (1 - fraction) : 0;
    const percent = Math.floor((finished ? 1 : fraction) * 100);
    const text = `${done}/${total} events ${percent}% ETA ${formatSeconds(eta)}`;
    if (output?.isTTY) {
      const width = 30;
      const filled = Math.round((finished ? 1 : fraction) * width);
      output.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\u001b[K`);
      if (finished) output.write('\n');
      return;
    }
    const decile = Math.floor(percent / 10);
    if (decile === lastDecile && !finished) return;
    lastDecile = decile;
    const line = `  rebuild: ${text}`;
    if (output) output.write(`${line}\n`);
    else print(line);
  };
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
