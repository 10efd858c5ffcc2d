import { useEffect, useState } from 'react';
import type { Client } from '../lib/api/client';
import type { ParleyDb } from '../lib/db/schema';
import { ConversationRef } from './ConversationRef';

type Letters = Awaited<ReturnType<Client['admin']['channels']['deadLetters']['query']>>;
type Overview = Awaited<ReturnType<Client['admin']['channels']['overview']['query']>>;
type Apps = Overview['apps'];
type Channels = Overview['channels'];

/**
 * For admins: webhook deliveries that kept failing (replayable) and replies that gave up, each with
 * its raw payload, and the webhook secrets with a no-downtime rotation.
 */
export function DeadLetters({ client, db, online }: { client: Client; db: ParleyDb; online: boolean }) {
  const [letters, setLetters] = useState<Letters | null>(null);
  const [apps, setApps] = useState<Apps>([]);
  const [channels, setChannels] = useState<Channels>([]);
  const channelName = (id: string | null) => {
    const name = channels.find((channel) => channel.channelId === id)?.name;
    return name ? ` on ${name}` : '';
  };
  const [message, setMessage] = useState<string | null>(null);

  async function load() {
    try {
      const [next, overview] = await Promise.all([
        client.admin.channels.deadLetters.query({}),
        client.admin.channels.overview.query(),
      ]);
      setLetters(next);
      setApps(overview.apps);
      setChannels(overview.channels);
    } catch {
      setMessage('Dead letters need a connection to the server.');
    }
  }
  useEffect(() => {
    if (online) void load();
  }, [online]);

  async function act(action: () => Promise<string>) {
    try {
      setMessage(await action());
      await load();
    } catch (error) {
      setMessage(`Not done: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return (
    <section className="dead-letters" aria-labelledby="dead-letters-heading">
      <h3 id="dead-letters-heading">Dead letters</h3>
      <p role="status" aria-live="polite">
        {message}
      </p>
      <h4>Webhook deliveries that kept failing</h4>
      {letters?.inbound.length === 0 ? <p className="muted">None.</p> : null}
      <ul className="settings-list">
        {(letters?.inbound ?? []).map((letter) => (
          <li key={letter.id}>
            <strong>#{letter.id}</strong> {letter.appId} ({letter.kind}), {letter.attempts} attempt(s):{' '}
            {letter.errorCode}: {letter.error}
            <details>
              <summary>Raw payload of #{letter.id}</summary>
              <pre>{letter.body}</pre>
            </details>
            <button
              type="button"
              disabled={!online}
              onClick={() =>
                void act(async () => {
                  await client.admin.channels.replay.mutate({ id: letter.id });
                  return `#${letter.id} is queued again.`;
                })
              }
            >
              Replay #{letter.id}
            </button>
          </li>
        ))}
      </ul>
      <h4>Replies that were not delivered</h4>
      {letters?.outbound.length === 0 ? <p className="muted">None.</p> : null}
      <ul className="settings-list">
        {(letters?.outbound ?? []).map((row) => (
          <li key={row.id}>
            <ConversationRef db={db} conversationId={row.conversationId} />
            {channelName(row.channelId)}: {row.status} after {row.attempts} attempt(s), {row.error}
            <details>
              <summary>Payload of the reply of {new Date(row.createdAt).toLocaleString()}</summary>
              <pre>{JSON.stringify(row.reply, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ul>
      <h4>Webhook secrets</h4>
      <ul className="settings-list">
        {apps.map((app) => (
          <li key={app.appId}>
            <strong>{app.appId}</strong> ({app.kind})
            {app.previousSecretExpiresAt
              ? `, previous secret accepted until ${new Date(app.previousSecretExpiresAt).toLocaleString()}`
              : ''}{' '}
            <button
              type="button"
              disabled={!online}
              onClick={() =>
                void act(async () => {
                  const rotated = await client.admin.channels.rotateSecret.mutate({ appId: app.appId });
                  return `New secret of ${app.appId} (shown once, set it at the platform): ${rotated.secret}. The old one works for 24 hours.`;
                })
              }
            >
              Rotate secret of {app.appId}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
