import { randomUUID } from 'node:crypto';
import { DomainError, type QueueReply, type TenantId } from '@parley/domain';
import {
  sendCommandBatch,
  type CommandAccepted,
  type CommandServices,
} from '../../src/commands/client-commands';

/**
 * Queues an agent's reply the way the PWA does: one numbered command of a new client through the
 * command path (`conversations.commandBatch`, server/src/commands), so the `ReplyQueued`, its outbox
 * row and the client's number commit together (the dispatcher hears of it through the event feed).
 * A refusal throws the rule's `DomainError`. The command's `templates` are the tenant's, as on the
 * server; the ones passed are ignored.
 */
export async function queueReply(
  services: CommandServices,
  tenantId: TenantId,
  conversationId: string,
  command: QueueReply,
): Promise<CommandAccepted> {
  const { clientMessageId, agentId, content, tag, now } = command.data;
  const { answers } = await sendCommandBatch(
    services,
    {
      tenantId,
      agentId,
      clientId: `test-${randomUUID()}`,
      now,
      metadata: { actor: { kind: 'agent', id: agentId } },
    },
    [{ sequence: 1, conversationId, command: { type: 'QueueReply', clientMessageId, content, tag } }],
  );
  const answer = answers[0]!;
  if (answer.status === 'refused') {
    throw new DomainError(answer.code, answer.detail, {
      ...(answer.rule === null ? {} : { rule: answer.rule }),
      ...(answer.hint === null ? {} : { hint: answer.hint }),
    });
  }
  if (answer.status !== 'accepted') throw new Error(`the reply was not applied: ${JSON.stringify(answer)}`);
  return answer;
}
