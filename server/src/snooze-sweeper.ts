import { isSnoozeDue, nextWake } from '@parley/domain';
import type { Grains } from './grains';
import type { Logger } from './logger';
import type { InboxListState } from './projections/inbox-list';
import type { ProjectionRunner } from './projections/projection';

const ACTOR = { actor: { kind: 'system', id: 'snooze' } };

export interface SnoozeSweeperOptions {
  readonly grains: Grains;
  readonly inboxList: ProjectionRunner<InboxListState>;
  readonly logger?: Logger;
  /** The clock; `Date.now` by default. */
  readonly clock?: () => number;
  /** Longest wait between two looks at the list (a snooze set meanwhile is seen then). Default 10 s. */
  readonly intervalMs?: number;
}

/** The running sweeper. */
export interface SnoozeSweeper {
  /** Asks every conversation due now to wake; resolves with how many were asked. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Wakes snoozed conversations at their time (rule LS3): it sleeps until the earliest snooze time
 * the inbox list knows (at most `intervalMs`), then sends `WakeConversation` to each due one. The
 * decider (CV10) decides again: a conversation a customer already woke, or snoozed again later,
 * changes nothing, and the idempotency key (conversation and snooze time) makes a second process's
 * sweep harmless.
 */
export function startSnoozeSweeper(options: SnoozeSweeperOptions): SnoozeSweeper {
  const { grains, inboxList, logger } = options;
  const clock = options.clock ?? Date.now;
  const intervalMs = options.intervalMs ?? 10_000;
  const controller = new AbortController();
  let wakeEarly: (() => void) | undefined;

  async function sweep(): Promise<number> {
    await inboxList.catchUp();
    const now = clock();
    const due = [...inboxList.state.conversations.values()].filter((summary) => isSnoozeDue(summary, now));
    for (const summary of due) {
      await grains
        .conversation(summary.tenantId, summary.conversationId)
        .ask(
          { type: 'WakeConversation', data: { now } },
          { metadata: ACTOR, idempotencyKey: `snooze:${summary.snoozedUntil}` },
        )
        .catch((error: unknown) =>
          logger?.warn(
            { err: error, conversationId: summary.conversationId },
            'snooze wake-up failed; retrying',
          ),
        );
    }
    return due.length;
  }

  async function run(): Promise<void> {
    while (!controller.signal.aborted) {
      let delay = intervalMs;
      try {
        await sweep();
        const next = nextWake(inboxList.state.conversations.values());
        if (next !== null) delay = Math.min(intervalMs, Math.max(250, next - clock()));
      } catch (error) {
        logger?.warn({ err: error }, 'snooze sweep failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wakeEarly = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  const running = run();
  return {
    sweep,
    async stop() {
      controller.abort();
      wakeEarly?.();
      await running;
    },
  };
}
