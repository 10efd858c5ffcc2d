import pino from 'pino';
import type { LogLevel } from './config';

export type Logger = pino.Logger;

/** JSON logs to stdout, as a process supervisor expects. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: undefined });
}
