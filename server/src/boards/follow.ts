import { reconcileBoard, type BoardSeed } from '@parley/board';
import type { TenantId } from '@parley/domain';
import type * as Y from 'yjs';
import type { BoardFollow, BoardLogger, BoardServerOptions, BoardWatch } from './types';

/** What a follower needs of its room. */
export interface FollowHost {
  readonly tenantId: TenantId;
  readonly boardId: string;
  readonly doc: Y.Doc;
  /** True while the room serves its document: edits made now are stored and sent. */
  serving(): boolean;
  /** Runs `task` after every move judgment queued before it (the room's judging queue). */
  serialize(task: () => Promise<void>): void;
  /** Counts the cards and columns the follower added or moved. */
  edited(count: number): void;
  log(level: keyof BoardLogger, details: object, message: string): void;
}

/**
 * Keeps a loaded board in step with the domain (the domain → board direction). The seed at load
 * reconciles the whole board; afterwards each card the domain changes is reconciled alone, with the
 * same function (`reconcileBoard`): a card is added or moved only when the domain's stage differs
 * from its column, so the `CardMoved` a board move caused finds the card in place and changes
 * nothing. Its edits carry the room's server origin: stored and fanned out, never judged or reported.
 *
 * Ordering: reconciling runs on the room's judging queue, and a card with a client's move still
 * waiting for its verdict is skipped and checked again once that verdict is in, so the board ends
 * at the domain's answer without showing the card in between.
 */
export class BoardFollower {
  private watch: BoardWatch | undefined;
  private readonly dirty = new Set<string>();
  private everything = false;
  private scheduled = false;
  private active = false;
  private stopped = false;
  /** Cards with client moves awaiting a verdict, and how many. */
  private readonly awaiting = new Map<string, number>();

  constructor(
    private readonly host: FollowHost,
    private readonly seed: BoardServerOptions['seed'],
    private readonly follow: BoardFollow | undefined,
    private readonly origin: unknown,
  ) {}

  /** Starts hearing the domain's changes; resolves once they are routed here, before the seed is read. */
  async start(): Promise<void> {
    if (!this.follow || this.stopped) return;
    try {
      this.watch = this.follow.watch(this.host.tenantId, this.host.boardId, (cardId) => this.recheck(cardId));
      await this.watch.ready;
    } catch (error) {
      this.host.log(
        'error',
        { err: error },
        "following the board's domain failed; it shows it as of each load",
      );
    }
  }

  /** Reconciles the whole board with the seed read at load, then applies the changes heard since. */
  plant(seed: BoardSeed | null): void {
    if (seed) this.apply(seed, 'seeding the board failed; it opens as stored');
    this.active = true;
    this.schedule();
  }

  /** Marks a card (null: every card) to be reconciled with the domain. */
  recheck(cardId: string | null): void {
    if (cardId === null) this.everything = true;
    else this.dirty.add(cardId);
    this.schedule();
  }

  /**
   * Notes a client's move of the card waiting for its verdict; the returned function ends the wait
   * and checks the card against the domain (which may have refused the move or moved it meanwhile).
   */
  awaitVerdict(cardId: string): () => void {
    this.awaiting.set(cardId, (this.awaiting.get(cardId) ?? 0) + 1);
    return () => {
      const left = (this.awaiting.get(cardId) ?? 1) - 1;
      if (left > 0) this.awaiting.set(cardId, left);
      else this.awaiting.delete(cardId);
      if (this.follow) this.recheck(cardId);
    };
  }

  stop(): void {
    this.stopped = true;
    this.active = false;
    this.watch?.stop();
  }

  private schedule(): void {
    if (this.scheduled || !this.active || this.stopped) return;
    if (!this.everything && this.dirty.size === 0) return;
    this.scheduled = true;
    this.host.serialize(() => this.run());
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    const everything = this.everything;
    const cardIds = [...this.dirty];
    this.everything = false;
    this.dirty.clear();
    // An unloading board is reconciled again when it next loads.
    if (!this.host.serving()) return;
    const { tenantId, boardId } = this.host;
    try {
      const seed = everything
        ? await this.seed?.(tenantId, boardId)
        : await this.follow?.seedOf(tenantId, boardId, cardIds);
      if (seed && this.host.serving()) this.apply(seed, "following the board's domain failed");
    } catch (error) {
      this.host.log(
        'error',
        { err: error, cards: everything ? 'all' : cardIds },
        'reading the domain failed',
      );
    }
    // Changes heard while reading are applied in the next round.
    this.schedule();
  }

  private apply(seed: BoardSeed, failure: string): void {
    const cards = seed.cards.filter((card) => !this.awaiting.has(card.id));
    try {
      const changed = reconcileBoard(this.host.doc, { columns: seed.columns, cards }, this.origin);
      if (changed > 0) {
        this.host.edited(changed);
        this.host.log('info', { changed }, 'board reconciled with its domain');
      }
    } catch (error) {
      this.host.log('error', { err: error }, failure);
    }
  }
}
