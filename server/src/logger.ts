import pino from 'pino';
import type { LogLevel } from './config';
import { traceFields } from './ops/tracing';

export type Logger = pino.Logger;

/**
 * What never reaches a log line (0018): passwords, webhook secrets, platform tokens, session
 * cookies and authorization headers, at the top level, one level down, and in request headers.
 */
export const REDACTED_PATHS: readonly string[] = (() => {
  const keys = [
    'password',
    'newPassword',
    'passwordHash',
    'secret',
    'previousSecret',
    'webhookSecret',
    'token',
    'accessToken',
    'refreshToken',
    'verifyToken',
    'sessionCookie',
    'cookieValue',
    'cookie',
    'authorization',
    'access_token',
    'previous_secret',
    'verify_token',
    'password_hash',
  ];
  const headers = [
    'authorization',
    'cookie',
    '"set-cookie"',
    '"x-hub-signature-256"',
    '"x-telegram-bot-api-secret-token"',
  ];
  return [
    ...keys,
    ...keys.map((key) => `*.${key}`),
    ...headers.flatMap((header) => [
      `headers.${header}`,
      `*.headers.${header}`,
      `req.headers.${header}`,
      `request.headers.${header}`,
    ]),
  ].map((path) => path.replace(/\."(.+)"$/, '["$1"]'));
})();

/**
 * JSON logs to stdout (or `destination`), as a process supervisor expects, with secrets redacted
 * and, inside a traced span, its `trace_id` and `span_id` (decision 0039).
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    mixin: traceFields,
  };
  return destination ? pino(options, destination) : pino(options);
}
