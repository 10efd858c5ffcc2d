/**
 * Real-shaped webhook payloads, as the platforms send them: used by the simulators, the tests'
 * corpus and the benchmark. Timestamps follow each platform (WhatsApp and Telegram in seconds,
 * Meta in milliseconds).
 */

/** A WhatsApp Cloud API webhook around one `value`. */
export function whatsappWebhook(
  phoneNumberId: string,
  value: Record<string, unknown>,
): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: phoneNumberId },
              ...value,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

/** A customer's WhatsApp text message. */
export function whatsappText(
  phoneNumberId: string,
  customer: { waId: string; name: string },
  message: { id: string; text: string; at: number },
): Record<string, unknown> {
  return whatsappWebhook(phoneNumberId, {
    contacts: [{ profile: { name: customer.name }, wa_id: customer.waId }],
    messages: [
      {
        from: customer.waId,
        id: message.id,
        timestamp: String(Math.floor(message.at / 1000)),
        type: 'text',
        text: { body: message.text },
      },
    ],
  });
}

/** A WhatsApp status update for one of our messages. */
export function whatsappStatus(
  phoneNumberId: string,
  status: { id: string; status: 'sent' | 'delivered' | 'read' | 'failed'; recipient: string; at: number },
  error?: { code: number; title: string },
): Record<string, unknown> {
  return whatsappWebhook(phoneNumberId, {
    statuses: [
      {
        id: status.id,
        status: status.status,
        timestamp: String(Math.floor(status.at / 1000)),
        recipient_id: status.recipient,
        ...(status.status === 'failed' && error
          ? { errors: [{ code: error.code, title: error.title }] }
          : {}),
      },
    ],
  });
}

/** A Messenger (`page`) or Instagram webhook around messaging events of one page or account. */
export function metaWebhook(
  object: 'page' | 'instagram',
  accountId: string,
  messaging: readonly Record<string, unknown>[],
  at: number,
): Record<string, unknown> {
  return { object, entry: [{ id: accountId, time: at, messaging }] };
}

/** A customer's Messenger or Instagram text message. */
export function metaText(
  object: 'page' | 'instagram',
  accountId: string,
  sender: string,
  message: { mid: string; text: string; at: number },
): Record<string, unknown> {
  return metaWebhook(
    object,
    accountId,
    [
      {
        sender: { id: sender },
        recipient: { id: accountId },
        timestamp: message.at,
        message: { mid: message.mid, text: message.text },
      },
    ],
    message.at,
  );
}

/** A Messenger delivery or read receipt (`read` carries only a watermark on Messenger, a mid on Instagram). */
export function metaReceipt(
  object: 'page' | 'instagram',
  accountId: string,
  sender: string,
  receipt: { status: 'delivered' | 'read'; mids: readonly string[]; at: number },
): Record<string, unknown> {
  const body =
    receipt.status === 'delivered'
      ? { delivery: { mids: receipt.mids, watermark: receipt.at } }
      : object === 'instagram'
        ? { read: { mid: receipt.mids[0] } }
        : { read: { watermark: receipt.at } };
  return metaWebhook(
    object,
    accountId,
    [{ sender: { id: sender }, recipient: { id: accountId }, timestamp: receipt.at, ...body }],
    receipt.at,
  );
}

/** A Telegram `Update` with a customer's text message. */
export function telegramText(
  updateId: number,
  chat: { id: number; firstName: string; username?: string },
  message: { id: number; text: string; at: number },
): Record<string, unknown> {
  const from = {
    id: chat.id,
    is_bot: false,
    first_name: chat.firstName,
    ...(chat.username ? { username: chat.username } : {}),
    language_code: 'en',
  };
  return {
    update_id: updateId,
    message: {
      message_id: message.id,
      from,
      chat: { id: chat.id, first_name: chat.firstName, type: 'private' },
      date: Math.floor(message.at / 1000),
      text: message.text,
    },
  };
}
