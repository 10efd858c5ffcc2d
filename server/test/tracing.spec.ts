import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StreamId, TenantId } from '@parley/domain';
import { seedDemoChannels } from '../src/channels';
import { createLogger } from '../src/logger';
import {
  currentTraceparent,
  inSpan,
  routeOf,
  startTracing,
  traceFields,
  tracingRequested,
  type Tracing,
} from '../src/ops/tracing';
import { DEMO_ACCOUNTS } from '../src/seed';
import { httpClient, openApiHarness, serveHttp, type ApiHarness } from './api.support';
import { startServer } from './support/cli';

const WHATSAPP = { appId: 'demo-whatsapp', phoneNumberId: '100000000000001' };
const SECRET = 'tracing-spec-secret-0123456789';
const ADA = DEMO_ACCOUNTS.find((account) => account.email === 'ada@demo.parley.test')!;

/** A customer's text message as WhatsApp Cloud posts it. */
function whatsappText(waId: string, messageId: string, text: string): string {
  const stamp = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: WHATSAPP.phoneNumberId },
              contacts: [{ profile: { name: 'Trace Customer' }, wa_id: waId }],
              messages: [
                { from: waId, id: messageId, timestamp: String(stamp), type: 'text', text: { body: text } },
              ],
            },
          },
        ],
      },
    ],
  });
}

/** An OTLP/HTTP collector on an ephemeral port: the JSON bodies posted to `/v1/traces`. */
async function startCollector(): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(JSON.parse(text));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface OtlpSpan {
  readonly name: string;
  readonly traceId: string;
}

/** The spans and `service.name`s in OTLP JSON export requests. */
function exported(bodies: readonly unknown[]): { spans: OtlpSpan[]; services: string[] } {
  const spans: OtlpSpan[] = [];
  const services: string[] = [];
  for (const body of bodies as {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: { spans: OtlpSpan[] }[];
    }[];
  }[]) {
    for (const { resource, scopeSpans } of body.resourceSpans) {
      const name = resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      if (name) services.push(name);
      for (const scope of scopeSpans) spans.push(...scope.spans);
    }
  }
  return { spans, services };
}

describe('tracing configuration', () => {
  it('is on only when an OTLP endpoint is configured, and can be switched off explicitly', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
      true,
    );
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBe(false);
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBe(false);
  });

  it('names spans by route, never by id or query', () => {
    expect(routeOf('/webhooks/whatsapp/demo-whatsapp')).toBe('/webhooks/whatsapp/demo-whatsapp');
    expect(routeOf('/trpc/conversations.list,sync.catchUp?batch=1&input=%7B%7D')).toBe(
      '/trpc/conversations.list,sync.catchUp',
    );
    expect(routeOf('/api/attachments/3f2a9c0e-77aa-4a8e-9bd5-1c2d3e4f5a6b')).toBe('/api/attachments/:id');
    expect(routeOf('/webchat/demo-web/messages?after=12')).toBe('/webchat/demo-web/messages');
    expect(routeOf(undefined)).toBe('/');
  });

  it('while off, work runs as is: no span ids in logs and no traceparent for events', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({ write: (chunk, _enc, done) => done(void lines.push(String(chunk))) }),
    );
    const inside = await inSpan('untraced', {}, () => {
      logger.info('inside');
      return Promise.resolve({ fields: traceFields(), traceparent: currentTraceparent() });
    });
    expect(inside).toEqual({ fields: {}, traceparent: undefined });
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('trace_id');
  });
});

describe('a customer message traced from the webhook to the live stream', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let h: ApiHarness;
  let served: Awaited<ReturnType<typeof serveHttp>>;

  beforeAll(async () => {
    tracing = startTracing({ exporter, immediate: true });
    h = await openApiHarness('pglite');
    served = await serveHttp(h);
    // The demo's channels, as `npm start` makes them, with a webhook secret this test knows.
    await seedDemoChannels({ channels: h.services.channels });
    await h.services.channels.repo.rotateSecret(WHATSAPP.appId, SECRET, 60_000);
  });

  afterAll(async () => {
    await served?.stop();
    await h?.dispose();
    await tracing?.shutdown();
  });

  it('one trace runs webhook → inbox.process → grain.ask → store.append → sse.send; the commit links to it', async () => {
    const admin = httpClient(served.url);
    await admin.trpc.auth.signIn.mutate({ tenantId: ADA.tenantId, email: ADA.email, password: ADA.password });
    const text = `traced ${Date.now()}`;
    const seen: string[] = [];
    const subscription = admin.trpc.sync.live.subscribe(
      { cursor: null },
      {
        onData: ({ data }) => {
          if (data.kind === 'event' && JSON.stringify(data.event.data).includes(text))
            seen.push(data.event.type);
        },
      },
    );
    try {
      const body = whatsappText('15557770001', `wamid.TRACE${Date.now().toString(36)}`, text);
      const response = await fetch(
        `${served.url.replace(/\/trpc$/, '')}/webhooks/whatsapp/${WHATSAPP.appId}`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
          },
          body,
        },
      );
      expect(response.status).toBe(200);
      await vi.waitFor(() => expect(seen).toContain('InboundMessageReceived'), {
        timeout: 20_000,
        interval: 50,
      });
    } finally {
      subscription.unsubscribe();
    }

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentOf = (span: ReadableSpan) => byId.get(span.parentSpanContext?.spanId ?? '');
    const ancestry = (span: ReadableSpan): string[] => {
      const names: string[] = [];
      for (let at = parentOf(span); at; at = parentOf(at)) names.push(at.name);
      return names;
    };
    const webhook = spans.find((span) => span.name === `POST /webhooks/whatsapp/${WHATSAPP.appId}`);
    expect(webhook?.kind).toBe(SpanKind.SERVER);
    expect(webhook?.attributes['http.response.status_code']).toBe(200);
    const traceId = webhook!.spanContext().traceId;
    const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);

    const send = inTrace.find(
      (span) => span.name === 'sse.send' && span.attributes['parley.event'] === 'InboundMessageReceived',
    );
    expect(send, 'the live stream continued the webhook trace').toBeDefined();
    expect(ancestry(send!)).toEqual(
      expect.arrayContaining(['store.append', 'grain.ask', 'inbox.process', webhook!.name]),
    );
    // In that order, child to root.
    const chain = ancestry(send!).filter((name) =>
      ['store.append', 'grain.ask', 'inbox.process', webhook!.name].includes(name),
    );
    expect(chain).toEqual(['store.append', 'grain.ask', 'inbox.process', webhook!.name]);

    // The group commit is its own trace's root, linked to the append it wrote.
    const append = parentOf(send!)!;
    expect(append.name).toBe('store.append');
    const commit = spans.find(
      (span) =>
        span.name === 'store.commit' &&
        span.links.some((link) => link.context.spanId === append.spanContext().spanId),
    );
    expect(commit, 'a store.commit span links to the append').toBeDefined();
    expect(commit!.parentSpanContext).toBeUndefined();
  });

  it('log lines written inside a span carry its trace and span ids', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({ write: (chunk, _enc, done) => done(void lines.push(String(chunk))) }),
    );
    const ids = await inSpan('logging', {}, (span) => {
      logger.info('inside a span');
      return Promise.resolve(span.spanContext());
    });
    logger.info('outside');
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId, msg: 'inside a span' });
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('events written inside a span carry its traceparent in their metadata', async () => {
    const written = await inSpan('writer', {}, async () =>
      h.services.store.append(
        ADA.tenantId as TenantId,
        'tracing-probe-1' as StreamId,
        [{ type: 'ProbeWritten', data: {}, metadata: {} }],
        { expectedVersion: 'no_stream' },
      ),
    );
    const [event] = written.events;
    expect(event!.metadata.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const writer = exporter.getFinishedSpans().find((span) => span.name === 'writer')!;
    expect(event!.metadata.traceparent as string).toContain(writer.spanContext().traceId);
  });
});

describe('the parley process with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('exports its request spans to the collector as service "parley", flushed on SIGTERM', async () => {
    const collector = await startCollector();
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-trace-'));
    try {
      const server = await startServer(dataDir, {
        env: { LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: '' },
      });
      await vi.waitFor(() => expect(server.output()).toContain('"tracing":"otlp"'), { timeout: 10_000 });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await server.stop()).toBe(0);
      const { spans, services } = exported(collector.bodies);
      expect(services).toContain('parley');
      expect(spans.map((span) => span.name)).toContain('GET /healthz');
    } finally {
      await collector.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
