import type { SqlQueryable } from './driver';

const DAY_MS = 86_400_000;

/** The UTC day of an instant, as `YYYY-MM-DD`. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

export function partitionName(day: string): string {
  return `events_p${day.replaceAll('-', '')}`;
}

/** Creates any missing day partitions from `fromDay` for `days` days; returns the days it created. */
export async function ensurePartitions(sql: SqlQueryable, fromDay: string, days: number): Promise<string[]> {
  const created: string[] = [];
  for (let i = 0; i < days; i++) {
    const day = addDays(fromDay, i);
    const rows = await sql.query<{ created: boolean }>(
      'SELECT parley_ensure_event_partition($1::date) AS created',
      [day],
    );
    if (rows[0]?.created) created.push(day);
  }
  return created;
}

/** The day partitions attached to the events table, oldest first. */
export async function listPartitions(sql: SqlQueryable): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'events'
      ORDER BY c.relname`,
  );
  return rows
    .map((row) => /^events_p(\d{4})(\d{2})(\d{2})$/.exec(row.name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => `${match[1]}-${match[2]}-${match[3]}`);
}
