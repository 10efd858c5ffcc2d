import { useEffect, useId, useState, type FormEvent } from 'react';
import { CONNECTABLE_PLATFORMS, CREDENTIAL_FIELDS } from '@parley/domain';
import type { Client } from '../lib/api/client';
import type { Session } from '../lib/session';
import { PLATFORM_LABEL, refusalText } from '../lib/channel-setup';
import { ChannelCard } from './ChannelCard';
import { ErrorLine } from './CopyField';
import '../styles/channels.css';

export type ChannelSetupView = Awaited<ReturnType<Client['admin']['channels']['setup']['query']>>;
type Platform = (typeof CONNECTABLE_PLATFORMS)[number];
type Inboxes = Awaited<ReturnType<Client['boards']['inboxes']['query']>>;

/**
 * Settings › Channels (#17, decision 0038), for admins: the connected channels with what to paste
 * into each platform, and a form to connect another. Credentials go to the server once and are
 * never shown again: a channel lists them as saved, with a way to replace them.
 */
export function ChannelSetup({ session, online }: { session: Session; online: boolean }) {
  const { client } = session;
  const [setup, setSetup] = useState<ChannelSetupView | null>(null);
  const [inboxes, setInboxes] = useState<Inboxes>([]);
  const [error, setError] = useState<string | null>(null);
  const [connecting, setConnecting] = useState(false);
  const [justConnected, setJustConnected] = useState<string | null>(null);

  async function load() {
    try {
      const [view, list] = await Promise.all([
        client.admin.channels.setup.query(),
        client.boards.inboxes.query(),
      ]);
      setSetup(view);
      setInboxes(list);
      setError(null);
    } catch (failure) {
      setError(refusalText(failure, 'The channels could not be loaded'));
    }
  }
  useEffect(() => {
    if (online) void load();
  }, [online]);

  return (
    <section className="channel-setup" aria-labelledby="channels-heading">
      <div className="channel-setup-head">
        <h3 id="channels-heading">Channels</h3>
        <button type="button" disabled={!online} onClick={() => setConnecting((open) => !open)}>
          {connecting ? 'Close' : 'Connect a channel'}
        </button>
      </div>
      <ErrorLine error={error} />
      {connecting && setup ? (
        <ConnectForm
          client={client}
          online={online}
          inboxes={inboxes}
          simulatorsRunning={setup.simulatorsRunning}
          onConnected={(channelId) => {
            setConnecting(false);
            setJustConnected(channelId);
            void load();
          }}
        />
      ) : null}
      {setup === null && !error ? <p className="muted">Loading…</p> : null}
      <ul className="channel-list">
        {(setup?.channels ?? []).map((channel) => (
          <ChannelCard
            key={channel.channelId}
            client={client}
            online={online}
            channel={channel}
            publicUrl={setup?.publicUrl || window.location.origin}
            fresh={channel.channelId === justConnected}
            onChanged={() => void load()}
          />
        ))}
      </ul>
    </section>
  );
}

/** The form that connects a channel: platform, name, inbox, where it sends, and its credentials (CS1). */
function ConnectForm({
  client,
  online,
  inboxes,
  simulatorsRunning,
  onConnected,
}: {
  client: Client;
  online: boolean;
  inboxes: Inboxes;
  simulatorsRunning: boolean;
  onConnected: (channelId: string) => void;
}) {
  const id = useId();
  const [platform, setPlatform] = useState<Platform>('whatsapp');
  const [name, setName] = useState('');
  const [inboxId, setInboxId] = useState(inboxes[0]?.inboxId ?? '');
  const [target, setTarget] = useState<'simulator' | 'platform'>(
    simulatorsRunning ? 'simulator' : 'platform',
  );
  const [credentials, setCredentials] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const fields = CREDENTIAL_FIELDS[platform];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const { channelId } = await client.admin.channels.connect.mutate({
        platform,
        name,
        inboxId: inboxId || (inboxes[0]?.inboxId ?? ''),
        target: platform === 'webchat' ? 'platform' : target,
        credentials: Object.fromEntries(fields.map((field) => [field.key, credentials[field.key] ?? ''])),
      });
      setCredentials({});
      onConnected(channelId);
    } catch (failure) {
      setError(refusalText(failure, 'The channel was not connected'));
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="channel-connect" onSubmit={(event) => void submit(event)} aria-label="Connect a channel">
      <label>
        Platform
        <select value={platform} onChange={(event) => setPlatform(event.target.value as Platform)}>
          {CONNECTABLE_PLATFORMS.map((each) => (
            <option key={each} value={each}>
              {PLATFORM_LABEL[each]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Name
        <input value={name} required maxLength={80} onChange={(event) => setName(event.target.value)} />
      </label>
      <label>
        Inbox
        <select value={inboxId} onChange={(event) => setInboxId(event.target.value)}>
          {inboxes.map((inbox) => (
            <option key={inbox.inboxId} value={inbox.inboxId}>
              {inbox.name}
            </option>
          ))}
        </select>
      </label>
      {platform !== 'webchat' ? (
        <fieldset>
          <legend>Sends to</legend>
          <label className="check">
            <input
              type="radio"
              name={`${id}-target`}
              checked={target === 'simulator'}
              disabled={!simulatorsRunning}
              onChange={() => setTarget('simulator')}
            />
            The local simulator (demo)
          </label>
          <label className="check">
            <input
              type="radio"
              name={`${id}-target`}
              checked={target === 'platform'}
              onChange={() => setTarget('platform')}
            />
            {PLATFORM_LABEL[platform]} itself
          </label>
        </fieldset>
      ) : (
        <p className="muted">
          Web chat needs no credentials: after connecting, set its look and copy its snippet below.
        </p>
      )}
      {fields.map((field) => (
        <div key={`${platform}-${field.key}`} className="field">
          <label>
            {field.label}
            <input
              value={credentials[field.key] ?? ''}
              type={/token|secret/i.test(field.key) ? 'password' : 'text'}
              autoComplete="off"
              required
              aria-describedby={`${id}-${field.key}-hint`}
              onChange={(event) => setCredentials({ ...credentials, [field.key]: event.target.value })}
            />
          </label>
          <span id={`${id}-${field.key}-hint`} className="muted hint">
            {field.hint}
          </span>
        </div>
      ))}
      <ErrorLine error={error} />
      <div className="row">
        <button type="submit" disabled={!online || saving || inboxes.length === 0}>
          {saving ? 'Connecting…' : 'Connect'}
        </button>
      </div>
    </form>
  );
}
