import { isStorableText, sanitizeText } from './text';

/** A value that survives `JSON.stringify` and `JSON.parse` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object: the shape of every event payload and metadata record. */
export type JsonObject = { [key: string]: JsonValue };

/** Where a value stops being JSON, as a path like `$.items[2].at`, or null when all of it is JSON. */
export function findNonJson(value: unknown, path = '$', seen: Set<object> = new Set()): string | null {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} (${String(value)} is not a finite number)`;
    case 'object': {
      if (seen.has(value)) return `${path} (circular reference)`;
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const bad = findNonJson(value[i], `${path}[${i}]`, seen);
            if (bad) return bad;
          }
          return null;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          return `${path} (a ${value.constructor?.name ?? 'non-plain'} object, not a plain object)`;
        }
        for (const [key, item] of Object.entries(value)) {
          const bad = findNonJson(item, `${path}.${key}`, seen);
          if (bad) return bad;
        }
        return null;
      } finally {
        seen.delete(value);
      }
    }
    case 'bigint':
    case 'undefined':
    case 'function':
    case 'symbol':
      return `${path} (${typeof value} is not JSON)`;
  }
  return `${path} (not JSON)`;
}

/**
 * Rule TX1 over a value: every string in it, object keys too, sanitised by `sanitizeText`;
 * `sanitized` says whether anything changed. Values that are not strings are kept as they are.
 */
export function sanitizeJson<T>(value: T): { readonly value: T; readonly sanitized: boolean } {
  let sanitized = false;
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') {
      const clean = sanitizeText(item);
      sanitized ||= clean.sanitized;
      return clean.text;
    }
    if (Array.isArray(item)) return item.map(walk);
    if (typeof item === 'object' && item !== null && Object.getPrototypeOf(item) === Object.prototype) {
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [walk(key), walk(inner)]));
    }
    return item;
  };
  const result = walk(value) as T;
  return { value: sanitized ? result : value, sanitized };
}

/**
 * Where a value holds text that cannot be stored (a NUL or a lone UTF-16 surrogate, rule TX1), as
 * a path like `$.content.text`, or null when all of it can.
 */
export function findUnstorableText(value: unknown, path = '$'): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findUnstorableText(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return `${path} (a key)`;
    const bad = findUnstorableText(item, `${path}.${key}`);
    if (bad) return bad;
  }
  return null;
}
