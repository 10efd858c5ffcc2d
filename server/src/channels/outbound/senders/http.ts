import { retryAfterMs } from '../backoff';
import type { SendOutcome } from './types';

/** A platform's HTTP answer, parsed as JSON when it is JSON. */
export interface HttpAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly json: unknown;
}

/** POSTs JSON; a network failure or timeout becomes a `transient` outcome instead of an exception. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAnswer | SendOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { raw: text.slice(0, 200) };
    }
    return { status: response.status, retryAfter: response.headers.get('retry-after'), json };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      kind: 'transient',
      code: timedOut ? 'TIMEOUT' : 'NETWORK',
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

/** True when `postJson` already settled the outcome. */
export function isOutcome(value: HttpAnswer | SendOutcome): value is SendOutcome {
  return 'kind' in value;
}

/** The outcome of a non-2xx answer that no platform-specific rule claimed. */
export function genericFailure(
  answer: HttpAnswer,
  code: string,
  detail: string,
  now = Date.now(),
): SendOutcome {
  if (answer.status === 429) {
    return { kind: 'rate-limited', retryAfterMs: retryAfterMs(answer.retryAfter, now), detail };
  }
  if (answer.status >= 500 || answer.status === 408)
    return { kind: 'transient', code: `HTTP_${answer.status}`, detail };
  return { kind: 'rejected', code, detail };
}

/** A field of a JSON object, or undefined. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A string or number field of a JSON object as text, or undefined. */
export function textField(value: unknown, ...path: (string | number)[]): string | undefined {
  const found = field(value, ...path);
  return typeof found === 'string' || typeof found === 'number' ? String(found) : undefined;
}
