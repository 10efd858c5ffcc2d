import type { SqlQueryable } from '../db/driver';
import { InboxStore } from './inbound/inbox-store';

/** Usage lines of the `webhooks` commands, for the CLI's help. */
export const WEBHOOKS_USAGE = `  webhooks dead-letters [--tenant <id>]
                            list webhook deliveries that kept failing, newest first, with their errors
  webhooks replay <id>      put a dead letter back in the queue (the running server processes it)`;

/** `parley webhooks ...`; throws `usage(message)` for a malformed command. */
export async function runWebhooksCommand(
  sql: SqlQueryable,
  args: readonly string[],
  options: { tenant?: string },
  print: (line: string) => void,
  usage: (message: string) => Error,
): Promise<void> {
  const inbox = new InboxStore(sql);
  switch (args[0]) {
    case 'dead-letters': {
      const letters = await inbox.deadLetters({ tenantId: options.tenant, limit: 200 });
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
    default:
      throw usage(`usage:\n${WEBHOOKS_USAGE}`);
  }
}
