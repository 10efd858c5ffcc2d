/**
 * A Parley process for the lease tests (leases.spec.ts): opens the database the test names, runs
 * the channels with the dispatcher on and the webhook processor off (so a delivery it records stays
 * leased to it), and waits to be killed. `POST /_reply` queues an agent's reply.
 * Env: LEASES_DATA_DIR (PGlite) or LEASES_DATABASE_URL, LEASES_SIMULATOR_URL, LEASES_WORK_DIR.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDatabase } from '../../src/db/database';
import { queueReply } from '../support/queue-reply';
import { archiveOf, startStack, TENANT } from './leases.support';

const db = await openDatabase(
  process.env.LEASES_DATABASE_URL
    ? { databaseUrl: process.env.LEASES_DATABASE_URL }
    : { dataDir: process.env.LEASES_DATA_DIR! },
);
const stack = await startStack(
  db,
  archiveOf(process.env.LEASES_WORK_DIR!),
  process.env.LEASES_SIMULATOR_URL!,
  {
    autoStart: false,
    leases: { node: 'leases-test-node' },
  },
);
stack.channels.dispatcher.start();

const control = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const { conversationId, clientMessageId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      conversationId: string;
      clientMessageId: string;
    };
    queueReply({ db, grains: stack.grains }, TENANT, conversationId, {
      type: 'QueueReply',
      data: {
        clientMessageId,
        agentId: 'agent-1',
        content: { type: 'text', text: clientMessageId },
        tag: null,
        now: Date.now(),
        templates: [],
      },
    }).then(
      () => res.end('ok'),
      (error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      },
    );
  });
});
control.listen(0, '127.0.0.1', () => {
  const port = (control.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ webhooks: stack.url, control: `http://127.0.0.1:${port}` })}\n`);
});
