/** What Telegram answered to `setWebhook`. */
export type SetWebhookOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** 401: the bot token was refused; 400: the URL or secret; 0: Telegram could not be reached. */
      readonly status: number;
      readonly description: string;
    };

/**
 * Points a bot's updates at Parley (`POST {base}/bot{token}/setWebhook`) with the secret token
 * Telegram then sends in `X-Telegram-Bot-Api-Secret-Token` (checked by IN1 on every update).
 */
export async function setTelegramWebhook(
  baseUrl: string,
  botToken: string,
  webhookUrl: string,
  secretToken: string,
  timeoutMs = 10_000,
): Promise<SetWebhookOutcome> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl.replace(/\/$/, '')}/bot${botToken}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url: webhookUrl,
        secret_token: secretToken,
        allowed_updates: ['message', 'edited_message'],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return {
      ok: false,
      status: 0,
      description: `Telegram could not be reached (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  const json = (await response.json().catch(() => null)) as {
    ok?: unknown;
    error_code?: unknown;
    description?: unknown;
  } | null;
  if (response.ok && json?.ok === true) return { ok: true };
  const description = typeof json?.description === 'string' ? json.description : `HTTP ${response.status}`;
  const status = typeof json?.error_code === 'number' ? json.error_code : response.status;
  return { ok: false, status, description };
}
