/** What `GET /trpc/health` reports about the server. */
export interface Health {
  version: string;
  database: { kind: 'pglite' | 'postgres' };
  migrations: { applied: number; pending: number };
}

/** Fetches the server's health; rejects when the server cannot be reached or answers oddly. */
export async function fetchHealth(signal?: AbortSignal): Promise<Health> {
  // A tRPC 11 query without input is a plain GET; the answer is wrapped in `result.data`.
  const response = await fetch('/trpc/health', { signal, headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /trpc/health answered ${response.status}`);
  const body: unknown = await response.json();
  const data = (body as { result?: { data?: unknown } } | null)?.result?.data;
  if (!isHealth(data)) throw new Error('GET /trpc/health answered an unexpected shape');
  return data;
}

function isHealth(value: unknown): value is Health {
  const v = value as Partial<Health> | null;
  return (
    typeof v?.version === 'string' &&
    (v.database?.kind === 'pglite' || v.database?.kind === 'postgres') &&
    Number.isInteger(v.migrations?.applied) &&
    Number.isInteger(v.migrations?.pending)
  );
}

/** One line for people, e.g. "Connected to Parley 0.1.0 · PGlite database · 3 migrations applied". */
export function describeHealth({ version, database, migrations }: Health): string {
  const db = database.kind === 'pglite' ? 'PGlite' : 'PostgreSQL';
  const applied = `${migrations.applied} ${migrations.applied === 1 ? 'migration' : 'migrations'} applied`;
  const pending = migrations.pending > 0 ? `, ${migrations.pending} pending` : '';
  return `Connected to Parley ${version} · ${db} database · ${applied}${pending}`;
}
