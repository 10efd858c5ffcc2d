import type { EventRow } from './db/schema';

/** One cycle of a conversation (an opening until its resolution), as "past conversations" list it. */
export interface CycleView {
  readonly cycle: number;
  readonly startedAt: number;
  /** When it was resolved; null for the cycle still running. */
  readonly endedAt: number | null;
  /** The latest customer message or reply of the cycle; null when it had none. */
  readonly lastMessageAt: number | null;
  readonly messages: number;
}

/** A conversation's cycles from its stored events (CycleStarted / CycleEnded), newest first. */
export function conversationCycles(events: readonly EventRow[]): CycleView[] {
  const cycles = new Map<
    number,
    { startedAt: number; endedAt: number | null; last: number | null; n: number }
  >();
  let current = 0;
  for (const row of [...events].sort((a, b) => a.version - b.version)) {
    const data = row.data as { cycle?: unknown; at?: unknown; sentAt?: unknown; queuedAt?: unknown };
    switch (row.type) {
      case 'CycleStarted':
        current = Number(data.cycle);
        cycles.set(current, { startedAt: Number(data.at), endedAt: null, last: null, n: 0 });
        break;
      case 'CycleEnded': {
        const cycle = cycles.get(Number(data.cycle));
        if (cycle) cycle.endedAt = Number(data.at);
        break;
      }
      case 'InboundMessageReceived':
      case 'ReplyQueued': {
        const cycle = cycles.get(current);
        const at = Number(row.type === 'ReplyQueued' ? data.queuedAt : data.sentAt);
        if (!cycle || !Number.isFinite(at)) break;
        cycle.last = cycle.last === null ? at : Math.max(cycle.last, at);
        cycle.n += 1;
        break;
      }
      default:
        break;
    }
  }
  return [...cycles]
    .map(([cycle, c]) => ({
      cycle,
      startedAt: c.startedAt,
      endedAt: c.endedAt,
      lastMessageAt: c.last,
      messages: c.n,
    }))
    .sort((a, b) => b.cycle - a.cycle);
}
