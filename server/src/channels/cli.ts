import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../crypto/secrets';
import type { SqlQueryable } from '../db/driver';
import { InboxStore } from './inbound/inbox-store';
import { OutboxStore } from './outbound/outbox-store';
import { ChannelRepository } from './repository';

/** Usage lines of the `webhooks` commands, for the CLI's help. */
export const WEBHOOKS_USAGE = `  webhooks dead-letters [--tenant <id>]
                            list webhook deliveries that kept failing, newest first, with their errors
  webhooks replay <id>      put a dead letter back in the queue (the running server processes it)
  webhooks rotate-secret <app> [--grace-hours <h>]
                            give an app a new random webhook secret (printed once); the old one
                            stays accepted for <h> hours (default 24), then expires`;

/** `parley webhooks ...`; throws `usage(message)` for a malformed command. */
export async function runWebhooksCommand(
  sql: SqlQueryable,
  args: readonly string[],
  options: { tenant?: string; graceHours?: string },
  print: (line: string) => void,
  usage: (message: string) => Error,
  /** Seals the new secret with the tenant key (decision 0022). */
  secrets?: SecretBox,
): Promise<void> {
  const inbox = new InboxStore(sql);
  switch (args[0]) {
    case 'dead-letters': {
      const letters = await inbox.deadLetters({ tenantId: options.tenant, limit: 200 });
      if (options.tenant) {
        // Replies that gave up are the domain's (ReplyFailed, final): visible here, retried by the agent.
        for (const row of await new OutboxStore(sql).deadLetters(options.tenant, 200)) {
          print(
            `reply ${row.id}  ${options.tenant}/${row.conversationId} ${row.clientMessageId}  ${row.status} after ` +
              `${row.attempts} attempt(s)  ${row.error ?? ''}\n    ${JSON.stringify(row.reply)}`,
          );
        }
      }
      if (letters.length === 0) return print('no dead letters');
      for (const letter of letters) {
        print(
          `#${letter.id}  ${letter.receivedAt.toISOString()}  ${letter.tenantId}/${letter.appId} (${letter.kind})  ` +
            `${letter.attempts} attempt(s)  ${letter.errorCode ?? '-'}: ${letter.error ?? ''}`,
        );
        print(
          `    ${letter.body.length > 300 ? `${letter.body.slice(0, 300)}… (${letter.body.length} chars)` : letter.body}`,
        );
      }
      return;
    }
    case 'replay': {
      const id = args[1];
      if (!id) throw usage('usage: webhooks replay <id>');
      if (!(await inbox.replay(id, Date.now()))) throw usage(`#${id} is not a dead letter`);
      return print(
        `#${id} is queued again; a running Parley processes it within a second (or at its next start)`,
      );
    }
    case 'rotate-secret': {
      const appId = args[1];
      const hours = Number(options.graceHours ?? 24);
      if (!appId || !Number.isFinite(hours) || hours < 0 || hours > 720) {
        throw usage('usage: webhooks rotate-secret <app> [--grace-hours <0-720>]');
      }
      const secret = randomBytes(24).toString('hex');
      const graceMs = Math.round(hours * 3_600_000);
      if (
        !(await new ChannelRepository(sql, Date.now, undefined, secrets).rotateSecret(appId, secret, graceMs))
      ) {
        throw usage(`there is no app ${appId}`);
      }
      print(`new secret of ${appId}: ${secret}  (shown once: set it at the platform)`);
      return print(
        `the previous secret stays accepted until ${new Date(Date.now() + graceMs).toISOString()}; a running Parley picks the new one up within 2 s`,
      );
    }
    default:
      throw usage(`usage:\n${WEBHOOKS_USAGE}`);
  }
}
