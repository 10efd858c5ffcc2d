import type { SignalChannel } from '../broadcast/signals';
import type { SecretBox } from '../crypto/secrets';
import type { Database } from '../db/database';
import type { Grains } from '../grains';
import type { Logger } from '../logger';
import type { EventStore } from '../store/types';
import { startNotificationFollower, type NotificationFollower } from './follower';
import { ensureVapidKeys } from './keys';
import { loadPushConfig, startNotificationSender, type NotificationSender, type PushConfig } from './sender';

export { vapidKeysFor } from './keys';
export { pushEndpointAllowed, type PushConfig, type PushMessage } from './sender';
export type { NotificationPayload } from './follower';

/** Notifications (#15 item 8, decision 0026): the follower that decides, the sender that delivers. */
export interface Notifications {
  readonly config: PushConfig;
  readonly follower: NotificationFollower;
  readonly sender: NotificationSender;
  stop(): Promise<void>;
}

/** Makes missing VAPID keys, then starts following the log and sending. */
export async function startNotifications(options: {
  readonly db: Database;
  readonly store: EventStore;
  readonly grains: Grains;
  readonly secrets: SecretBox;
  readonly signals: SignalChannel;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Settings over the environment's (tests: a stand-in push service's HTTPS agent). */
  readonly config?: Partial<PushConfig>;
}): Promise<Notifications> {
  const config = { ...loadPushConfig(options.env), ...options.config };
  await ensureVapidKeys(options.db.sql, options.secrets);
  const sender = startNotificationSender({ ...options, config });
  const follower = await startNotificationFollower({ ...options, onQueued: () => sender.wake() });
  return {
    config,
    follower,
    sender,
    async stop() {
      await follower.stop();
      await sender.stop();
    },
  };
}
