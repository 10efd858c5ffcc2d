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
