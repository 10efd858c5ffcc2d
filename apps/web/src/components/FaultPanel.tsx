import { useEffect, useState, type FormEvent } from 'react';
import type { Client } from '../lib/api/client';
import type { ParleyDb } from '../lib/db/schema';
import { useNow } from '../lib/hooks';
import { navigate } from '../lib/router';
import { ConversationRef } from './ConversationRef';
import { RelativeTime } from './RelativeTime';

type Overview = Awaited<ReturnType<Client['admin']['channels']['overview']['query']>>;
type Faults = NonNullable<Overview['channels'][number]['faults']>;
type Simulator = 'whatsapp' | 'meta' | 'telegram';
const SIMULATORS: readonly Simulator[] = ['whatsapp', 'meta', 'telegram'];
const LABEL: Readonly<Record<Simulator, string>> = {
  whatsapp: 'WhatsApp Cloud API',
  meta: 'Messenger / Instagram',
  telegram: 'Telegram Bot API',
};
/** How often the live view asks the server while it is shown. */
const REFRESH_MS = 1_000;

/** The channels' live state for admins, refreshed every second while shown and online. */
export function useChannelsOverview(client: Client, online: boolean) {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!online) return;
    let stopped = false;
    const load = () =>
      client.admin.channels.overview.query().then(
        (next) => {
          if (!stopped) setOverview(next);
        },
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [client, online, version]);
  return { overview, refresh: () => setVersion((v) => v + 1) };
}

function describeFaults(faults: Faults | null): string {
  if (!faults) return 'real platform';
  const parts = [
    faults.outage ? 'outage (503)' : null,
    faults.latencyMs > 0 ? `+${faults.latencyMs} ms` : null,
    faults.errorRate > 0 ? `${Math.round(faults.errorRate * 100)}% 5xx` : null,
    faults.rateLimit && faults.rateLimit.untilMs > Date.now()
      ? `429, Retry-After ${faults.rateLimit.retryAfterSeconds} s`
      : null,
    faults.duplicateRate > 0 ? `${Math.round(faults.duplicateRate * 100)}% duplicate webhooks` : null,
    faults.outOfOrder ? 'webhooks out of order' : null,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no faults';
}

function breakerText(channel: Overview['channels'][number]): string {
  const paused = channel.pausedForMs > 0 ? `, paused ${Math.ceil(channel.pausedForMs / 1000)} s` : '';
  return `${channel.breaker}${paused}`;
}

/**
 * The developer panel ("Inject fault"), shown to admins when this server runs the platform
 * simulators: faults per simulator for this tenant's channels, a customer who writes in on demand,
 * and a live view of each channel's breaker and the outbox's retries (docs/decisions/0013).
 */
export function FaultPanel({ client, db, online }: { client: Client; db: ParleyDb; online: boolean }) {
  const { overview, refresh } = useChannelsOverview(client, online);
  const now = useNow(1_000);
  const [simulator, setSimulator] = useState<Simulator>('whatsapp');
  const [outage, setOutage] = useState(false);
  const [latencyMs, setLatencyMs] = useState(0);
  const [errorPercent, setErrorPercent] = useState(0);
  const [retryAfter, setRetryAfter] = useState(0);
  const [rateForSeconds, setRateForSeconds] = useState(30);
  const [duplicatePercent, setDuplicatePercent] = useState(0);
  const [outOfOrder, setOutOfOrder] = useState(false);
  const [channelId, setChannelId] = useState('');
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  if (!overview?.simulatorsRunning) return null;
  const simulated = overview.channels.filter((channel) => channel.simulator !== null);
  const target = channelId || simulated[0]?.channelId || '';

  async function run(action: () => Promise<unknown>, done: string) {
    try {
      await action();
      setMessage(done);
      refresh();
    } catch (error) {
      setMessage(`Not done: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  function apply(event: FormEvent) {
    event.preventDefault();
    void run(
      () =>
        client.admin.channels.setFaults.mutate({
          simulator,
          faults: {
            outage,
            latencyMs,
            errorRate: errorPercent / 100,
            rateLimit:
              retryAfter > 0 ? { retryAfterSeconds: retryAfter, forMs: rateForSeconds * 1000 } : null,
            duplicateRate: duplicatePercent / 100,
            outOfOrder,
          },
        }),
      `Faults set on ${LABEL[simulator]}.`,
    );
  }

  return (
    <section className="fault-panel" aria-labelledby="fault-heading">
      <h3 id="fault-heading">Inject fault (developer)</h3>
      <p className="muted">
        The local platform simulators answer this workspace&rsquo;s channels. Faults reach only its channels.
      </p>
      <form onSubmit={apply} className="fault-form">
        <label>
          Simulator
          <select value={simulator} onChange={(e) => setSimulator(e.target.value as Simulator)}>
            {SIMULATORS.map((kind) => (
              <option key={kind} value={kind}>
                {LABEL[kind]}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={outage} onChange={(e) => setOutage(e.target.checked)} />
          Outage (every call answers 503)
        </label>
        <label>
          Added latency (ms)
          <input
            type="number"
            min={0}
            max={60000}
            value={latencyMs}
            onChange={(e) => setLatencyMs(Number(e.target.value))}
          />
        </label>
        <label>
          5xx rate (%)
          <input
            type="number"
            min={0}
            max={100}
            value={errorPercent}
            onChange={(e) => setErrorPercent(Number(e.target.value))}
          />
        </label>
        <label>
          429 with Retry-After (s, 0 for none)
          <input
            type="number"
            min={0}
            max={3600}
            value={retryAfter}
            onChange={(e) => setRetryAfter(Number(e.target.value))}
          />
        </label>
        <label>
          429s last for (s)
          <input
            type="number"
            min={0}
            max={3600}
            value={rateForSeconds}
            onChange={(e) => setRateForSeconds(Number(e.target.value))}
          />
        </label>
        <label>
          Duplicate status webhooks (%)
          <input
            type="number"
            min={0}
            max={100}
            value={duplicatePercent}
            onChange={(e) => setDuplicatePercent(Number(e.target.value))}
          />
        </label>
        <label className="check">
          <input type="checkbox" checked={outOfOrder} onChange={(e) => setOutOfOrder(e.target.checked)} />
          Status webhooks out of order
        </label>
        <div className="row">
          <button type="submit" disabled={!online}>
            Apply faults
          </button>
          <button
            type="button"
            className="ghost"
            disabled={!online}
            onClick={() =>
              void run(() => client.admin.channels.clearFaults.mutate({}), 'Every fault cleared.')
            }
          >
            Clear all faults
          </button>
        </div>
      </form>
      <div className="row">
        <label>
          Channel
          <select value={target} onChange={(e) => setChannelId(e.target.value)}>
            {simulated.map((channel) => (
              <option key={channel.channelId} value={channel.channelId}>
                {channel.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={!online || !target}
          onClick={() =>
            void run(async () => {
              const posted = await client.admin.channels.customerMessage.mutate({ channelId: target });
              setConversationId(posted.conversationId);
            }, 'A customer wrote in.')
          }
        >
          A customer writes in
        </button>
        {conversationId ? (
          <a
            href={`/c/${encodeURIComponent(conversationId)}`}
            onClick={(event) => {
              event.preventDefault();
              navigate({ screen: 'conversation', conversationId });
            }}
          >
            Open the conversation
          </a>
        ) : null}
      </div>
      <p role="status" aria-live="polite">
        {message}
      </p>
      {/* Wider than a phone: the table scrolls sideways in its own focusable region. */}
      <div className="table-scroll" role="region" aria-label="Breakers and faults" tabIndex={0}>
        <table className="channel-state">
          <caption>Channels: simulator faults and circuit breakers</caption>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col">Faults</th>
              <th scope="col">Breaker</th>
            </tr>
          </thead>
          <tbody>
            {overview.channels.map((channel) => (
              <tr key={channel.channelId} data-channel={channel.channelId}>
                <th scope="row">{channel.name}</th>
                <td>{describeFaults(channel.faults)}</td>
                <td data-breaker={channel.breaker}>{breakerText(channel)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        Outbox: {overview.outbox.pending} pending, {overview.outbox.sending} sending, {overview.outbox.sent}{' '}
        sent, {overview.outbox.failed} failed, {overview.outbox.dead} dead
      </p>
      <div className="table-scroll" role="region" aria-label="Latest replies" tabIndex={0}>
        <table className="outbox-state">
          <caption>Latest replies on their way to the platforms</caption>
          <thead>
            <tr>
              <th scope="col">Conversation</th>
              <th scope="col">Channel</th>
              <th scope="col">Queued</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {overview.recent.map((row) => (
              <tr key={row.id} data-status={row.status}>
                <th scope="row">
                  <ConversationRef db={db} conversationId={row.conversationId} />
                </th>
                <td>
                  {overview.channels.find((channel) => channel.channelId === row.channelId)?.name ?? '—'}
                </td>
                <td>
                  <RelativeTime at={row.createdAt} now={now} />
                </td>
                <td>
                  {row.status === 'pending' && row.attempts > 0
                    ? `retrying in ${Math.max(0, Math.ceil((row.nextAttemptAt - now) / 1000))} s`
                    : row.status}
                </td>
                <td>{row.attempts}</td>
                <td>{row.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
