import { useEffect, useId, useState } from 'react';
import { DURATION_BUCKETS } from '@parley/domain';
import type { Client } from '../lib/api/client';
import {
  formatDuration,
  PERIOD_PRESETS,
  presetRange,
  rangeProblem,
  type DayRange,
  type PeriodPreset,
} from '../lib/reports';
import { mayReadReports } from '../lib/people';
import { hrefOf, navigate, type Route } from '../lib/router';
import type { Session } from '../lib/session';
import { AuditLog } from './AuditLog';
import '../styles/reports.css';

type Overview = Awaited<ReturnType<Client['reports']['overview']['query']>>;
type Metrics = Awaited<ReturnType<Client['reports']['metrics']['query']>>;
type Summary = Overview['firstResponse'];
type Dimension = Metrics['by'];
type Basis = 'calendar' | 'business';

const DIMENSIONS: readonly (readonly [Dimension, string])[] = [
  ['agent', 'Agent'],
  ['inbox', 'Inbox'],
  ['channel', 'Channel'],
  ['label', 'Label'],
];

const BASES: readonly (readonly [Basis, string])[] = [
  ['calendar', 'Calendar time'],
  ['business', 'Business hours'],
];

/** What a load came to: still waiting, the answer, or why there is none. */
type Load<T> =
  | { readonly kind: 'loading' }
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'error'; readonly message: string };

function failure(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'the server did not answer';
}

/**
 * Reports (#16), for admins and supervisors (PE1): the tenant's figures over a period of UTC days and the same per agent,
 * inbox, channel or label (`reports.overview`, `reports.metrics`, read from the analytics
 * projection), and for admins the audit log. Needs a connection: nothing here is kept on the device.
 */
export function ReportsScreen({
  session,
  online,
  view,
}: {
  session: Session;
  online: boolean;
  view: 'metrics' | 'audit';
}) {
  const { role } = session.account.agent;
  const admin = role === 'admin';
  // A supervisor reads the figures; the audit log is the admins' (audit.log is admin-only).
  const shown = admin ? view : 'metrics';
  const tabs: readonly (readonly [Route, string, boolean])[] = [
    [{ screen: 'reports', view: 'metrics' }, 'Metrics', shown === 'metrics'],
    ...(admin ? ([[{ screen: 'reports', view: 'audit' }, 'Audit log', shown === 'audit']] as const) : []),
  ];
  return (
    <section className="reports-screen" aria-labelledby="reports-heading">
      <h2 id="reports-heading">Reports</h2>
      {!mayReadReports(role) ? (
        <p className="muted">Reports are for your workspace&rsquo;s admins and supervisors.</p>
      ) : (
        <>
          <nav className="reports-tabs" aria-label="Reports">
            {tabs.map(([target, label, current]) => (
              <a
                key={label}
                href={hrefOf(target)}
                aria-current={current ? 'page' : undefined}
                onClick={(event) => {
                  event.preventDefault();
                  navigate(target, { replace: true });
                }}
              >
                {label}
              </a>
            ))}
          </nav>
          {online ? null : (
            <p className="notice offline" role="status">
              You are offline. Reports are read from the server, so they show again when the connection is
              back.
            </p>
          )}
          {shown === 'metrics' ? (
            <MetricsView client={session.client} online={online} />
          ) : (
            <AuditLog client={session.client} online={online} />
          )}
        </>
      )}
    </section>
  );
}

function MetricsView({ client, online }: { client: Client; online: boolean }) {
  const id = useId();
  const [preset, setPreset] = useState<PeriodPreset>('7d');
  const [custom, setCustom] = useState<DayRange>(() => presetRange('7d', Date.now()));
  const [basis, setBasis] = useState<Basis>('calendar');
  const [by, setBy] = useState<Dimension>('agent');
  const [attempt, setAttempt] = useState(0);
  const [overview, setOverview] = useState<Load<Overview>>({ kind: 'loading' });
  const [metrics, setMetrics] = useState<Load<Metrics>>({ kind: 'loading' });
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());

  const range = preset === 'custom' ? custom : presetRange(preset, Date.now());
  const problem = preset === 'custom' ? rangeProblem(custom) : null;

  useEffect(() => {
    if (!online) return;
    // Agents' and inboxes' names for the tables' keys; a report without them still shows ids.
    void Promise.all([client.agents.list.query(), client.boards.inboxes.query()]).then(
      ([agents, inboxes]) =>
        setNames(
          new Map([
            ...agents.map((agent) => [`agent:${agent.id}`, agent.name] as const),
            ...inboxes.map((inbox) => [`inbox:${inbox.inboxId}`, inbox.name] as const),
          ]),
        ),
      () => undefined,
    );
  }, [client, online]);

  useEffect(() => {
    if (!online || problem) return;
    let current = true;
    setOverview({ kind: 'loading' });
    client.reports.overview.query({ ...range, basis }).then(
      (value) => current && setOverview({ kind: 'done', value }),
      (error: unknown) => current && setOverview({ kind: 'error', message: failure(error) }),
    );
    return () => {
      current = false;
    };
  }, [client, online, problem, range.from, range.to, basis, attempt]);

  useEffect(() => {
    if (!online || problem) return;
    let current = true;
    setMetrics({ kind: 'loading' });
    client.reports.metrics.query({ ...range, basis, by }).then(
      (value) => current && setMetrics({ kind: 'done', value }),
      (error: unknown) => current && setMetrics({ kind: 'error', message: failure(error) }),
    );
    return () => {
      current = false;
    };
  }, [client, online, problem, range.from, range.to, basis, by, attempt]);

  const retry = () => setAttempt((n) => n + 1);
  const nameOf = (key: string) =>
    by === 'agent' || by === 'inbox' ? (names.get(`${by}:${key}`) ?? key) : key;

  return (
    <div className="reports-metrics">
      <form
        className="reports-period"
        aria-label="Choose the period"
        onSubmit={(event) => event.preventDefault()}
      >
        <Choice label="Period" value={preset} options={PERIOD_PRESETS} onChange={setPreset} />
        {preset === 'custom' ? (
          <>
            <label>
              From
              <input
                type="date"
                value={custom.from}
                onChange={(event) => setCustom({ ...custom, from: event.target.value })}
              />
            </label>
            <label>
              To
              <input
                type="date"
                value={custom.to}
                onChange={(event) => setCustom({ ...custom, to: event.target.value })}
              />
            </label>
          </>
        ) : null}
        <Choice label="Time" value={basis} options={BASES} onChange={setBasis} />
      </form>
      <p className="muted reports-range" id={`${id}-range`}>
        {problem ?? `${range.from === range.to ? range.from : `${range.from} to ${range.to}`} (UTC days).`}
        {basis === 'business' ? ' Inboxes have no business hours set yet, so they count as open 24/7.' : ''}
      </p>
      {problem ? null : (
        <>
          <OverviewFigures load={overview} onRetry={retry} />
          <section className="reports-table" aria-labelledby={`${id}-by`}>
            <div className="reports-table-head">
              <h3 id={`${id}-by`}>By {DIMENSIONS.find(([value]) => value === by)?.[1].toLowerCase()}</h3>
              <Choice label="Group by" value={by} options={DIMENSIONS} onChange={setBy} />
            </div>
            <Breakdown load={metrics} nameOf={nameOf} by={by} onRetry={retry} />
          </section>
        </>
      )}
    </div>
  );
}

/** A labelled select of one of a few values. */
function Choice<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange: (value: T) => void;
}) {
  return (
    <label>
      {label}
      <select
        value={value}
        onChange={(event) => {
          const chosen = options.find(([option]) => option === event.target.value);
          if (chosen) onChange(chosen[0]);
        }}
      >
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A load still under way, or failed with a way to try again. */
function Pending({
  what,
  load,
  onRetry,
}: {
  what: string;
  load: Exclude<Load<unknown>, { kind: 'done' }>;
  onRetry: () => void;
}) {
  if (load.kind === 'loading') {
    return (
      <p className="muted" role="status" aria-busy="true">
        Loading the {what}…
      </p>
    );
  }
  return (
    <div role="alert" className="error reports-error">
      <p>
        The {what} could not be loaded: {load.message}.
      </p>
      <button type="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}

function OverviewFigures({ load, onRetry }: { load: Load<Overview>; onRetry: () => void }) {
  if (load.kind !== 'done') return <Pending what="figures" load={load} onRetry={onRetry} />;
  const { counters, firstResponse, nextResponse, resolution } = load.value;
  const empty =
    counters.opened + counters.resolved + counters.messagesIn + counters.messagesOut === 0 &&
    firstResponse.count + resolution.count === 0;
  if (empty) {
    return (
      <div className="reports-empty" role="status">
        <p>
          <strong>Nothing happened in this period.</strong>
        </p>
        <p className="muted">No conversation was opened, answered or resolved. Choose a longer period.</p>
      </div>
    );
  }
  const figures: readonly (readonly [string, string, string | null])[] = [
    ['Opened', String(counters.opened), null],
    ['Resolved', String(counters.resolved), null],
    ['Reopened', String(counters.reopened), null],
    ['Messages in', String(counters.messagesIn), null],
    ['Messages out', String(counters.messagesOut), null],
    ['First response', formatDuration(firstResponse.median), timing(firstResponse)],
    ['Next response', formatDuration(nextResponse.median), timing(nextResponse)],
    ['Resolution', formatDuration(resolution.median), timing(resolution)],
  ];
  return (
    <>
      <dl className="reports-figures" aria-label="Overview">
        {figures.map(([label, value, detail]) => (
          <div key={label} className="figure">
            <dt>{label}</dt>
            <dd>
              <span className="figure-value">{value}</span>
              {detail ? <span className="muted figure-detail">{detail}</span> : null}
            </dd>
          </div>
        ))}
      </dl>
      <Buckets summary={firstResponse} />
    </>
  );
}

/** "median; p90 3 h 05 min; 12 measured" under a duration figure. */
function timing(summary: Summary): string {
  if (summary.count === 0) return 'none in this period';
  return `median; p90 ${formatDuration(summary.p90)}; ${summary.count} measured`;
}

function Buckets({ summary }: { summary: Summary }) {
  if (summary.count === 0) return null;
  const largest = Math.max(1, ...DURATION_BUCKETS.map(({ label }) => summary.buckets[label]));
  return (
    <section className="reports-buckets" aria-label="First responses by time taken">
      <h3>First responses by time taken</h3>
      <ul>
        {DURATION_BUCKETS.map(({ label }) => (
          <li key={label}>
            <span className="bucket-label">{label}</span>
            <span className="bucket-bar" aria-hidden="true">
              <span style={{ inlineSize: `${(100 * summary.buckets[label]) / largest}%` }} />
            </span>
            <span className="bucket-count">{summary.buckets[label]}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Breakdown({
  load,
  nameOf,
  by,
  onRetry,
}: {
  load: Load<Metrics>;
  nameOf: (key: string) => string;
  by: Dimension;
  onRetry: () => void;
}) {
  if (load.kind !== 'done') return <Pending what="table" load={load} onRetry={onRetry} />;
  if (load.value.rows.length === 0) {
    return <p className="muted reports-empty-table">No {by} has data in this period.</p>;
  }
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={`Figures by ${by}`}>
      <table>
        <thead>
          <tr>
            <th scope="col">{DIMENSIONS.find(([value]) => value === by)?.[1]}</th>
            <th scope="col">Opened</th>
            <th scope="col">Resolved</th>
            <th scope="col">In</th>
            <th scope="col">Out</th>
            <th scope="col">First response (median)</th>
            <th scope="col">Resolution (median)</th>
          </tr>
        </thead>
        <tbody>
          {load.value.rows.map((row) => (
            <tr key={row.key}>
              <th scope="row" dir="auto">
                {nameOf(row.key)}
              </th>
              <td>{row.counters.opened}</td>
              <td>{row.counters.resolved}</td>
              <td>{row.counters.messagesIn}</td>
              <td>{row.counters.messagesOut}</td>
              <td>{formatDuration(row.firstResponse.median)}</td>
              <td>{formatDuration(row.resolution.median)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
