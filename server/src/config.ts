import { resolve } from 'node:path';
import { parseTrustProxy, type TrustProxy } from './http/client-address';

/** Log levels pino understands, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything Parley reads from its environment; see the configuration table in README.md. */
export interface Config {
  /** A PostgreSQL URL, or undefined for the embedded PGlite database under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly port: number;
  /**
   * The interface to listen on (`HOST`). Unset: 127.0.0.1 for the embedded demo, whose passwords
   * are published (#13 S14), and 0.0.0.0 with `DATABASE_URL`.
   */
  readonly host: string;
  /** Where PGlite's files, archives and other local state live. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Largest `/trpc` request body in bytes (`PARLEY_API_MAX_BYTES`); unset: the default of http/limits.ts. */
  readonly apiMaxBytes?: number;
  /** Proxies whose `X-Forwarded-For` names the client (`PARLEY_TRUST_PROXY`); unset: none. */
  readonly trustProxy?: TrustProxy;
  /** Bearer token that lets any address read `/metrics` (`PARLEY_METRICS_TOKEN`); unset: loopback only. */
  readonly metricsToken?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`,
    );
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      'DATABASE_URL must start with postgresql:// (or leave it unset for the embedded database)',
    );
  }
  const apiMaxBytes = env.PARLEY_API_MAX_BYTES?.trim() ? Number(env.PARLEY_API_MAX_BYTES) : undefined;
  if (apiMaxBytes !== undefined && (!Number.isInteger(apiMaxBytes) || apiMaxBytes < 1024)) {
    throw new ConfigError(
      `PARLEY_API_MAX_BYTES must be a whole number of bytes, at least 1024, got ${JSON.stringify(env.PARLEY_API_MAX_BYTES)}`,
    );
  }
  let trustProxy: TrustProxy;
  try {
    trustProxy = parseTrustProxy(env.PARLEY_TRUST_PROXY);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    apiMaxBytes,
    trustProxy,
    metricsToken: env.PARLEY_METRICS_TOKEN?.trim() || undefined,
    databaseUrl,
    port,
    host: env.HOST?.trim() || (databaseUrl ? '0.0.0.0' : '127.0.0.1'),
    dataDir: resolve(cwd, env.DATA_DIR?.trim() || 'data'),
    logLevel: logLevel as LogLevel,
  };
}
