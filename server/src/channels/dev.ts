import type { IncomingMessage, ServerResponse } from 'node:http';
import { reply } from './http-response';
import type { WebhookStats } from './inbound/webhooks';
import type { CircuitBreakers } from './outbound/breaker';
import type { OutboxStore } from './outbound/outbox-store';
import type { CustomerSimulator } from './simulators/customer-simulator';
import { readJson } from './simulators/http-util';
import type { PlatformSimulator, SimulatorKind } from './simulators/platform-simulator';

/** What the developer endpoints show and steer. */
export interface DevDeps {
  readonly simulators: Partial<Record<SimulatorKind, PlatformSimulator>>;
  readonly customers: CustomerSimulator | undefined;
  readonly breakers: CircuitBreakers;
  readonly outbox: OutboxStore;
  readonly webhooks: WebhookStats;
  readonly clock: () => number;
}

/**
 * The JSON endpoints behind the PWA's "Inject fault" panel, only with the simulators on:
 * `GET /dev/faults` (faults, breakers, outbox and webhook counters), `POST /dev/faults`
 * (`{ "simulator": "whatsapp" | "meta" | "telegram" | "all", ...faults }`), `DELETE /dev/faults`,
 * and `POST /dev/customer-message` (a customer writes in now).
 */
export function createDevRoutes(deps: DevDeps) {
  const kinds = () => Object.keys(deps.simulators) as SimulatorKind[];
  return async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/dev/customer-message' && req.method === 'POST') {
      req.resume();
      const status = await deps.customers?.postOnce();
      return reply(res, status === undefined ? 409 : 200, {
        posted: status !== undefined,
        webhookStatus: status ?? null,
      });
    }
    if (path !== '/dev/faults') return reply(res, 404, { error: 'NOT_FOUND' });
    switch (req.method) {
      case 'GET':
        return reply(res, 200, {
          simulators: Object.fromEntries(
            kinds().map((kind) => {
              const sim = deps.simulators[kind]!;
              return [kind, { url: sim.url, faults: sim.faults(), stats: sim.stats() }];
            }),
          ),
          breakers: deps.breakers.snapshot(deps.clock()),
          outbox: await deps.outbox.counts(),
          webhooks: deps.webhooks,
        });
      case 'POST': {
        let body: Record<string, unknown>;
        try {
          body = (await readJson(req, 10_000)) as Record<string, unknown>;
        } catch {
          return reply(res, 400, { error: 'MALFORMED_JSON' });
        }
        const { simulator = 'all', ...faults } = body;
        const targets = simulator === 'all' ? kinds() : kinds().filter((kind) => kind === simulator);
        if (targets.length === 0)
          return reply(res, 400, { error: `no simulator ${JSON.stringify(simulator)}` });
        try {
          return reply(
            res,
            200,
            Object.fromEntries(targets.map((kind) => [kind, deps.simulators[kind]!.setFaults(faults)])),
          );
        } catch (error) {
          return reply(res, 400, { error: error instanceof Error ? error.message : String(error) });
        }
      }
      case 'DELETE':
        req.resume();
        for (const kind of kinds()) deps.simulators[kind]!.clearFaults();
        return reply(res, 200, { cleared: kinds() });
      default:
        req.resume();
        return reply(res, 405, { error: 'METHOD_NOT_ALLOWED' });
    }
  };
}
