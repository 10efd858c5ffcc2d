/** Why a request to a channel endpoint was refused without writing anything. */
/** `forbidden_origin`: a web chat post from a page outside the widget's allowed origins (CS5). */
export type RefusalReason = 'unauthorized' | 'too_large' | 'rate_limited' | 'forbidden_origin';

export type RefusalCounts = Readonly<Record<RefusalReason, number>>;

const NONE: RefusalCounts = { unauthorized: 0, too_large: 0, rate_limited: 0, forbidden_origin: 0 };

/**
 * Counts refused requests per app and reason in memory (since this process started). A request that
 * is not authenticated yet (an unsigned or oversized webhook, a flood of web chat posts) is counted
 * here and never written to the database, so a flood of them writes nothing. Keys are apps that
 * exist: unknown app ids are answered 404 before anything counts.
 */
export class RefusalCounter {
  private readonly counts = new Map<string, Record<RefusalReason, number>>();

  count(appId: string, reason: RefusalReason): void {
    let counts = this.counts.get(appId);
    if (!counts) {
      counts = { ...NONE };
      this.counts.set(appId, counts);
    }
    counts[reason] += 1;
  }

  of(appId: string): RefusalCounts {
    return { ...(this.counts.get(appId) ?? NONE) };
  }
}
