import { createHmac } from 'node:crypto';

/** The demo's WhatsApp app and number (server/src/channels/seed.ts). */
export const DEMO_WHATSAPP = { appId: 'demo-whatsapp', phoneNumberId: '100000000000001' };

/** A minimal cookie-keeping tRPC caller, for scripts outside Playwright's test runner. */
export class ApiSession {
  private cookie = '';
  constructor(readonly baseUrl: string) {}

  async signIn(account: { tenantId: string; email: string; password: string }): Promise<void> {
    const response = await fetch(`${this.baseUrl}/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    if (!response.ok) throw new Error(`sign-in as ${account.email} failed: ${response.status}`);
    this.cookie = response.headers
      .getSetCookie()
      .map((each) => each.split(';')[0])
      .join('; ');
  }

  async mutate<T>(path: string, input: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: this.cookie },
      body: JSON.stringify(input),
    });
    if (!response.ok) throw new Error(`${path} failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { result: { data: T } }).result.data;
  }

  /** A query as the PWA's client sends it (GET with `input`): its HTTP status, and its data when it succeeded. */
  async query<T>(path: string, input: unknown): Promise<{ status: number; data?: T }> {
    const url = `${this.baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
    const response = await fetch(url, { headers: { cookie: this.cookie } });
    if (!response.ok) return { status: response.status };
    return {
      status: response.status,
      data: ((await response.json()) as { result: { data: T } }).result.data,
    };
  }
}

/** Rotates the demo WhatsApp app's webhook secret (an admin's session) and returns the new one. */
export async function demoWhatsAppSecret(admin: ApiSession): Promise<string> {
  const rotated = await admin.mutate<{ secret: string }>('admin.channels.rotateSecret', {
    appId: DEMO_WHATSAPP.appId,
  });
  return rotated.secret;
}

let sent = 0;

/** A customer writes in on the demo's WhatsApp number, through a webhook signed as WhatsApp signs it. */
export async function whatsAppCustomerWrites(
  baseUrl: string,
  secret: string,
  customer: { readonly name: string; readonly waId: string; readonly text: string },
): Promise<void> {
  sent += 1;
  const stamp = Date.now();
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: DEMO_WHATSAPP.phoneNumberId },
              contacts: [{ profile: { name: customer.name }, wa_id: customer.waId }],
              messages: [
                {
                  from: customer.waId,
                  id: `wamid.SEED${stamp.toString(36)}${sent}`,
                  timestamp: String(Math.floor(stamp / 1000)),
                  type: 'text',
                  text: { body: customer.text },
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
  const response = await fetch(`${baseUrl}/webhooks/whatsapp/${DEMO_WHATSAPP.appId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  });
  if (!response.ok) throw new Error(`the webhook was refused: ${response.status}`);
}

/**
 * A web-chat visitor writes in, as the widget does (a visitor token, then the message): no webhook
 * secret is involved, so nothing is rotated under the other tests' feet.
 */
export async function webchatVisitorWrites(
  baseUrl: string,
  visitor: { readonly name: string; readonly text: string },
  appId = 'demo-webchat',
): Promise<void> {
  const session = await fetch(`${baseUrl}/webchat/${appId}/session`, { method: 'POST', body: '{}' });
  if (!session.ok) throw new Error(`no web-chat session: ${session.status}`);
  const { token } = (await session.json()) as { token: string };
  sent += 1;
  const posted = await fetch(`${baseUrl}/webchat/${appId}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'message', id: `m${Date.now().toString(36)}${sent}`, ...visitor }),
  });
  if (!posted.ok) throw new Error(`the web-chat message was refused: ${posted.status}`);
}
