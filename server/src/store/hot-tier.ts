import type { RecordedEvent } from '@parley/domain';

interface Entry {
  /** The stream's version when the entry was last updated. */
  version: number;
  /** The `foreignCommits` count the entry is known good at (see `otherProcessCommitted`). */
  checked: number;
  /** The stream's last events, consecutive and ending at `version`. */
  events: RecordedEvent[];
}

/**
 * The hot tier: the last `perStream` events of recently used streams, bounded by a total event
 * count and evicted least recently used first. It is fed by this process's own appends and by
 * reads that reach a stream's end; an append that hits a concurrency conflict drops the entry, and
 * a commit by another process (its NOTIFY) makes every entry unanswerable until the stream is read
 * from the database again, so no entry hides another process's write once it has been announced.
 */
export class HotTier {
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();
  private totalEvents = 0;
  /** Commits by other processes announced so far. */
  private foreignCommits = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEvents = 200_000,
    private readonly perStream = 100,
  ) {}

  /** Events from `fromVersion` on, or undefined when the tier cannot answer alone. */
  read(key: string, fromVersion: number, limit: number | undefined): RecordedEvent[] | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.checked !== this.foreignCommits) {
      this.misses++;
      return undefined;
    }
    const firstCached = entry.version - entry.events.length + 1;
    if (fromVersion < firstCached) {
      this.misses++;
      return undefined;
    }
    this.touch(key, entry);
    this.hits++;
    const start = fromVersion - firstCached;
    return entry.events.slice(start, limit === undefined ? undefined : start + limit);
  }

  /** The stream's version as far as this tier knows, or undefined. */
  version(key: string): number | undefined {
    return this.entries.get(key)?.version;
  }

  /** A token to pass to `rememberTail`, so a slow read cannot overwrite a newer append. */
  generation(key: string): number {
    return this.generations.get(key) ?? 0;
  }

  /** Another process committed: each entry must be read from the database before it answers again. */
  otherProcessCommitted(): void {
    this.foreignCommits++;
  }

  /** Records events this process just committed. */
  appended(key: string, events: readonly RecordedEvent[]): void {
    if (events.length === 0) return;
    this.bump(key);
    const entry = this.entries.get(key);
    const first = events[0]!.version;
    // An entry not checked since another process committed may miss its events: start afresh.
    const current = entry && entry.checked === this.foreignCommits && entry.version === first - 1;
    const combined = current ? [...entry.events, ...events] : [...events];
    this.set(key, combined);
  }

  /**
   * Records a stream's tail read from the database, unless an append changed it meanwhile or
   * another process committed since the read began (`checked`: `foreignCommitsSeen()` before it).
   */
  rememberTail(key: string, generation: number, events: readonly RecordedEvent[], checked?: number): void {
    if (events.length === 0 || this.generation(key) !== generation) return;
    if (checked !== undefined && checked !== this.foreignCommits) return;
    this.set(key, [...events]);
  }

  /** The count to pass to `rememberTail` for a read starting now. */
  foreignCommitsSeen(): number {
    return this.foreignCommits;
  }

  invalidate(key: string): void {
    this.bump(key);
    const entry = this.entries.get(key);
    if (!entry) return;
    this.totalEvents -= entry.events.length;
    this.entries.delete(key);
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.invalidate(key);
  }

  get size(): { streams: number; events: number } {
    return { streams: this.entries.size, events: this.totalEvents };
  }

  private set(key: string, events: RecordedEvent[]): void {
    const kept = events.length > this.perStream ? events.slice(events.length - this.perStream) : events;
    const previous = this.entries.get(key);
    if (previous) this.totalEvents -= previous.events.length;
    this.entries.delete(key);
    this.entries.set(key, {
      version: kept[kept.length - 1]!.version,
      checked: this.foreignCommits,
      events: kept,
    });
    this.totalEvents += kept.length;
    this.evict();
  }

  private touch(key: string, entry: Entry): void {
    // Map keeps insertion order: re-inserting moves the entry to the most recently used end.
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private bump(key: string): void {
    this.generations.set(key, this.generation(key) + 1);
    if (this.generations.size > this.entries.size * 2 + 1024) {
      // Generations only matter while a read is in flight; forget those of evicted streams.
      for (const known of this.generations.keys())
        if (!this.entries.has(known)) this.generations.delete(known);
    }
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.totalEvents <= this.maxEvents) return;
      this.entries.delete(key);
      this.totalEvents -= entry.events.length;
    }
  }
}
