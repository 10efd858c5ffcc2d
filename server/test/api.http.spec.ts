import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/api/router';
import type { LiveMessage } from '../src/sync/live';
import { API_BACKENDS, httpClient, openApiHarness, serveHttp, type ApiHarness } from './api.support';

describe.each(API_BACKENDS)('the API over HTTP with the tRPC client on %s', (kind, enabled) => {
  let h: ApiHarness;
  let http: Awaited<ReturnType<typeof serveHttp>>;
  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    http = await serveHttp(h);
    await h.settle();
  });
  afterAll(async () => {
    if (!enabled) return;
    await http.stop();
    await h.dispose();
  });

  it.skipIf(!enabled)('keeps health public, as the PWA reads it', async () => {
    const response = await fetch(`${http.url}/health`);
    const body = (await response.json()) as { result: { data: { status: string } } };
    expect(body.result.data.status).toBe('ok');
  });

  it.skipIf(!enabled)('signs in with an httpOnly SameSite cookie that the body never carries', async () => {
    const client = httpClient(http.url);
    const answer = await client.trpc.auth.signIn.mutate({
      tenantId: 'demo',
      email: 'ana@demo.parley.test',
      password: 'parley-demo-agent',
    });
    expect(client.setCookies).toHaveLength(1);
    expect(client.setCookies[0]).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(JSON.stringify(answer)).not.toContain(client.cookie()!.split('.')[1]!);
    const me = await client.trpc.auth.me.query();
    expect(me).toMatchObject({ tenant: { id: 'demo', name: 'Demo Support' }, agent: { id: 'ana' } });
    await client.trpc.auth.signOut.mutate();
    expect(client.cookie()).toBeUndefined();
    await expect(client.trpc.auth.me.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });

  it.skipIf(!enabled)('sends errors with codes and domain data, and never a stack trace', async () => {
    const client = httpClient(http.url);
    await client.trpc.auth.signIn.mutate({
      tenantId: 'demo',
      email: 'ben@demo.parley.test',
      password: 'parley-demo-agent',
    });
    const error = await client.trpc.conversations.note
      .mutate({ conversationId: 'demo-2', noteId: 'n', text: ' ' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    const { data } = error as TRPCClientError<AppRouter>;
    expect(data).toMatchObject({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      domainCode: 'NOTE_EMPTY',
      rule: 'CV7',
    });
    expect(data).not.toHaveProperty('stack');
    const raw = await fetch(
      `${http.url}/conversations.get?input=${encodeURIComponent('{"conversationId":"x"}')}`,
    );
    expect(raw.status).toBe(401);
    expect(await raw.text()).not.toMatch(/stack|\.ts:\d+/);
  });

  it.skipIf(!enabled)('runs a reply, an assignment and a query end to end', async () => {
    const client = httpClient(http.url);
    await client.trpc.auth.signIn.mutate({
      tenantId: 'demo',
      email: 'chloe@demo.parley.test',
      password: 'parley-demo-agent',
    });
    const reply = await client.trpc.conversations.reply.mutate({
      conversationId: 'demo-3',
      clientId: 'chloe-laptop',
      sequence: 1,
      clientMessageId: 'http-1',
      content: { type: 'text', text: 'Yes, we ship to Japan!' },
    });
    expect(reply).toMatchObject({ kind: 'accepted', duplicate: false });
    await client.trpc.conversations.assign.mutate({ conversationId: 'demo-3', agentId: 'chloe' });
    const mine = await client.trpc.conversations.list.query({ filter: 'mine' });
    expect(mine.items.map((item) => item.conversationId)).toContain('demo-3');
    expect(mine.items.find((item) => item.conversationId === 'demo-3')?.lastMessage).toMatchObject({
      from: 'agent',
      preview: 'Yes, we ship to Japan!',
    });
  });

  it.skipIf(!enabled)('streams live events over SSE as they commit, each with its cursor as id', async () => {
    const client = httpClient(http.url);
    await client.trpc.auth.signIn.mutate({
      tenantId: 'demo',
      email: 'ana@demo.parley.test',
      password: 'parley-demo-agent',
    });
    let head: string | null = null;
    for (let more = true; more;) {
      const page = await client.trpc.sync.catchUp.query({ cursor: head, limit: 1000 });
      if (page.kind !== 'events') throw new Error('unexpected resync');
      head = page.cursor;
      more = page.hasMore;
    }
    const received: LiveMessage[] = [];
    const ids: string[] = [];
    const subscription = client.trpc.sync.live.subscribe(
      { cursor: head },
      {
        onData: (message) => {
          ids.push(message.id);
          received.push(message.data);
        },
      },
    );
    try {
      await client.trpc.conversations.label.mutate({
        conversationId: 'demo-1',
        label: 'live',
        action: 'add',
      });
      // Other work may commit meanwhile (the workflow engine settling the seed): find ours.
      const isOurs = (message: LiveMessage) =>
        message.kind === 'event' &&
        message.event.streamId === 'conversation-demo-1' &&
        message.event.type === 'LabelAdded';
      await until(() => received.some(isOurs));
      const index = received.findIndex(isOurs);
      const ours = received[index];
      expect(ids[index]).toBe(ours?.kind === 'event' ? ours.event.cursor : undefined);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      subscription.unsubscribe();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
