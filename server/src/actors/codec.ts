import type { JsonValue } from '@parley/domain';
import type { SnapshotCodec } from './grain';

/**
 * A snapshot codec for states built of JSON plus `Map` and `Set` (the domain keeps replies and
 * message ids in them): maps become `{ "$map": [[k, v], ...] }` and sets `{ "$set": [...] }`.
 * Plain objects whose only key is `$map` or `$set` would be ambiguous; the domain has none.
 */
export const structuredJsonCodec: SnapshotCodec<unknown> = {
  encode: (state) => encode(state),
  decode: (json) => decode(json),
};

/** The codec typed for one grain's state. */
export function structuredCodec<State>(): SnapshotCodec<State> {
  return structuredJsonCodec as SnapshotCodec<State>;
}

function encode(value: unknown): JsonValue {
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [encode(k), encode(v)]) };
  if (value instanceof Set) return { $set: [...value].map(encode) };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a key like `__proto__` stays data, never a prototype.
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, encode(v)]),
    );
  }
  return value as JsonValue;
}

function decode(json: JsonValue): unknown {
  if (Array.isArray(json)) return json.map(decode);
  if (json !== null && typeof json === 'object') {
    const keys = Object.keys(json);
    if (keys.length === 1 && keys[0] === '$map' && Array.isArray(json.$map)) {
      return new Map(json.$map.map((entry) => (entry as JsonValue[]).map(decode) as [unknown, unknown]));
    }
    if (keys.length === 1 && keys[0] === '$set' && Array.isArray(json.$set))
      return new Set(json.$set.map(decode));
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, decode(v)]));
  }
  return json;
}
