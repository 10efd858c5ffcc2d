/** Live streams one session may hold open at once (tabs, devices sharing a cookie, reconnects). */
export const MAX_LIVE_STREAMS_PER_SESSION = 8;

/** One open live stream: `closed` aborts when a newer stream of its session pushed it out. */
export interface LiveSlot {
  readonly closed: AbortSignal;
  release(): void;
}

/**
 * Counts live streams per session. Opening one too many closes the session's oldest stream rather
 * than refusing the new one: a client that reconnects before the server noticed its old stream
 * was gone must still get through.
 */
export class LiveStreamCap {
  private readonly sessions = new Map<string, Set<AbortController>>();

  constructor(readonly perSession = MAX_LIVE_STREAMS_PER_SESSION) {}

  open(sessionKey: string): LiveSlot {
    let streams = this.sessions.get(sessionKey);
    if (!streams) {
      streams = new Set();
      this.sessions.set(sessionKey, streams);
    }
    const own = new AbortController();
    streams.add(own);
    while (streams.size > this.perSession) {
      const oldest = streams.values().next().value!;
      streams.delete(oldest);
      oldest.abort();
    }
    return {
      closed: own.signal,
      release: () => {
        const current = this.sessions.get(sessionKey);
        if (!current) return;
        current.delete(own);
        if (current.size === 0) this.sessions.delete(sessionKey);
      },
    };
  }

  /** Open streams of a session. */
  count(sessionKey: string): number {
    return this.sessions.get(sessionKey)?.size ?? 0;
  }
}

const caps = new WeakMap<object, LiveStreamCap>();

/** The cap of one process (keyed by its services). */
export function liveStreamCapOf(owner: object): LiveStreamCap {
  let cap = caps.get(owner);
  if (!cap) {
    cap = new LiveStreamCap();
    caps.set(owner, cap);
  }
  return cap;
}
