import type { Platform } from '@parley/domain';
import type { Logger } from '../../logger';
import { metaSignature } from '../signature';
import { metaText, telegramText, whatsappText } from './payloads';

/** A channel customers write to, and how to post to Parley's webhook for it. */
export interface CustomerTarget {
  readonly platform: Exclude<Platform, 'webchat'>;
  /** Parley's webhook URL of the channel's app. */
  readonly url: string;
  /** The app secret (or, for Telegram, the secret token). */
  readonly secret: string;
  readonly channelExternalId: string;
}

/** A running customer simulator. */
export interface CustomerSimulator {
  /** Posts one message from a random customer to a random channel; resolves to Parley's HTTP status. */
  postOnce(): Promise<number | undefined>;
  /** Posts one message (this text, else a random line) from a random customer to this channel; resolves to the status and the customer's id there. */
  postTo(
    target: CustomerTarget,
    text?: string,
  ): Promise<{ readonly status: number; readonly contactId: string }>;
  stop(): Promise<void>;
}

const CUSTOMERS = [
  { id: '15551230001', name: 'Ana Souza', chat: 700001, user: 'ana_s' },
  { id: '15551230002', name: 'Kwame Mensah', chat: 700002, user: 'kwame' },
  { id: '15551230003', name: 'Mei Tanaka', chat: 700003, user: 'mei_t' },
  { id: '15551230004', name: 'Lukas Weber', chat: 700004, user: 'lukasw' },
];
const LINES = [
  'Hi! Is my order on its way?',
  'Can I change the delivery address?',
  'The app keeps logging me out.',
  'Do you ship to Portugal?',
  'Thanks, that worked!',
  'Could someone call me back today?',
];

/**
 * Posts signed inbound messages as customers would, every `everyMs`, so a new user of the
 * embedded default sees conversations arrive. Off in tests unless a test drives `postOnce`.
 */
export function startCustomerSimulator(options: {
  readonly targets: () => Promise<readonly CustomerTarget[]>;
  /** 0 posts only when `postOnce` is called. */
  readonly everyMs: number;
  readonly random?: () => number;
  readonly clock?: () => number;
  readonly logger?: Logger;
}): CustomerSimulator {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  let sequence = 0;
  let busy: Promise<unknown> = Promise.resolve();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  async function postOnce(): Promise<number | undefined> {
    const targets = await options.targets();
    if (targets.length === 0) return undefined;
    return (await postTo(pick(targets))).status;
  }

  async function postTo(
    target: CustomerTarget,
    line?: string,
  ): Promise<{ status: number; contactId: string }> {
    const customer = pick(CUSTOMERS);
    const text = line ?? pick(LINES);
    const at = clock();
    sequence += 1;
    const id = `${at.toString(36)}${sequence}`;
    const [contactId, payload] = ((): [string, unknown] => {
      switch (target.platform) {
        case 'whatsapp':
          return [
            customer.id,
            whatsappText(
              target.channelExternalId,
              { waId: customer.id, name: customer.name },
              { id: `wamid.CUST${id}`, text, at },
            ),
          ];
        case 'messenger':
          return [
            `psid${customer.id}`,
            metaText('page', target.channelExternalId, `psid${customer.id}`, {
              mid: `m_CUST${id}`,
              text,
              at,
            }),
          ];
        case 'instagram':
          return [
            `igsid${customer.id}`,
            metaText('instagram', target.channelExternalId, `igsid${customer.id}`, {
              mid: `ig_CUST${id}`,
              text,
              at,
            }),
          ];
        case 'telegram':
          return [
            String(customer.chat),
            telegramText(
              at % 1_000_000_000,
              { id: customer.chat, firstName: customer.name.split(' ')[0]!, username: customer.user },
              { id: sequence, text, at },
            ),
          ];
        default:
          return target.platform satisfies never;
      }
    })();
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.platform === 'telegram') headers['x-telegram-bot-api-secret-token'] = target.secret;
    else headers['x-hub-signature-256'] = metaSignature(target.secret, body);
    const response = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(5_000),
    });
    await response.arrayBuffer();
    return { status: response.status, contactId };
  }

  const timer =
    options.everyMs > 0
      ? setInterval(() => {
          busy = postOnce().catch((error: unknown) =>
            options.logger?.warn({ err: error }, 'customer simulator could not post'),
          );
        }, options.everyMs)
      : undefined;
  timer?.unref();

  return {
    postOnce,
    postTo,
    async stop() {
      clearInterval(timer);
      await busy;
    },
  };
}
