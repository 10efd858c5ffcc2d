import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** The largest presence (one client's awareness state, as JSON) the server relays. */
export const MAX_PRESENCE_BYTES = 2048;
/** Presence messages one connection may send per second on average; a burst of as many is allowed. */
export const PRESENCE_PER_SECOND = 20;

/** One client's entry of an awareness update: its id, clock, and state as UTF-8 JSON bytes. */
export interface PresenceEntry {
  readonly clientId: number;
  readonly clock: number;
  readonly state: Uint8Array;
}

/**
 * The entries of an awareness update (y-protocols' `encodeAwarenessUpdate` layout: a count, then
 * id, clock and JSON state per client), without parsing the states. Throws on a malformed update.
 */
export function readPresenceUpdate(update: Uint8Array): PresenceEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: PresenceEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    entries.push({ clientId, clock, state: decoding.readVarUint8Array(decoder) });
  }
  return entries;
}

/** An awareness update of these clients' states (JSON text, `null` for a removal). */
export function writePresenceUpdate(
  entries: readonly { readonly clientId: number; readonly clock: number; readonly json: string }[],
): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const { clientId, clock, json } of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, json);
  }
  return encoding.toUint8Array(encoder);
}

/** A token bucket of `PRESENCE_PER_SECOND` for one connection, on the board server's clock. */
export class PresenceRate {
  private tokens = PRESENCE_PER_SECOND;
  constructor(private last: number) {}

  /** True when a message may pass now (and counts it). */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(PRESENCE_PER_SECOND, this.tokens + (elapsed * PRESENCE_PER_SECOND) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
