import { useState, type FormEvent } from 'react';
import { CREDENTIAL_FIELDS } from '@parley/domain';
import type { Client } from '../lib/api/client';
import { PLATFORM_LABEL, refusalText } from '../lib/channel-setup';
import type { ChannelSetupView } from './ChannelSetup';
import { CopyField, OutcomeLine, ErrorLine, type SetupOutcome } from './CopyField';
import { WidgetSettingsForm } from './WidgetSettings';

type Channel = ChannelSetupView['channels'][number];

const STATUS_TEXT: Readonly<Record<string, string>> = {
  processed: 'processed',
  pending: 'waiting to be processed',
  processing: 'being processed',
  dead: 'failed (see dead letters)',
};

function lastWebhookText(channel: Channel): string {
  const last = channel.lastWebhook;
  if (!last) return 'None received yet.';
  const when = new Date(last.receivedAt).toLocaleString();
  const error = last.errorCode ? `, last error ${last.errorCode}` : '';
  return `${when}: ${STATUS_TEXT[last.status] ?? last.status}${error}.`;
}

function refusalsText(channel: Channel): string | null {
  const {
    unauthorized,
    too_large: tooLarge,
    rate_limited: limited,
    forbidden_origin: origin,
  } = channel.refusals;
  const parts = [
    unauthorized ? `${unauthorized} with a wrong signature` : null,
    tooLarge ? `${tooLarge} too large` : null,
    limited ? `${limited} rate-limited` : null,
    origin ? `${origin} from a site not allowed` : null,
  ].filter(Boolean);
  return parts.length > 0 ? `Refused since the server started: ${parts.join(', ')}.` : null;
}

/** One connected channel: where the platform posts, what is saved, the last webhook, a test, rotation. */
export function ChannelCard({
  client,
  online,
  channel,
  publicUrl,
  fresh,
  onChanged,
}: {
  client: Client;
  online: boolean;
  channel: Channel;
  publicUrl: string;
  fresh: boolean;
  onChanged: () => void;
}) {
  const [outcome, setOutcome] = useState<SetupOutcome>(null);
  const [replacing, setReplacing] = useState(false);
  const [graceHours, setGraceHours] = useState(24);
  const [busy, setBusy] = useState(false);
  // Meta signs with its own app secret: a live Meta channel changes it with Replace credentials.
  const metaLive =
    channel.target === 'platform' && channel.credentials.some((field) => field.key === 'appSecret');
  const absolute = (url: string) => (url.startsWith('/') ? `${publicUrl}${url}` : url);

  async function run(work: () => Promise<string>, what: string) {
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome({ kind: 'done', text: await work() });
      onChanged();
    } catch (failure) {
      setOutcome({ kind: 'error', text: refusalText(failure, what) });
    } finally {
      setBusy(false);
    }
  }

  const test = () =>
    run(async () => {
      const sent = await client.admin.channels.testMessage.mutate({ channelId: channel.channelId });
      return `A test customer wrote in (the webhook answered ${sent.webhookStatus}): it is in the inbox now.`;
    }, 'No test message was sent');
  const rotate = () =>
    run(async () => {
      const rotated = await client.admin.channels.rotateSecret.mutate({ appId: channel.appId, graceHours });
      const until = new Date(rotated.previousSecretExpiresAt).toLocaleString();
      if (channel.platform === 'telegram')
        return `Rotated, and Telegram was told the new secret. The old one works until ${until}.`;
      if (channel.platform === 'webchat')
        return `Rotated: visitors' sessions are renewed. The old key works until ${until}.`;
      return `New secret (shown once): ${rotated.secret}. The old one works until ${until}.`;
    }, 'The secret was not rotated');

  const target =
    channel.target === 'simulator' ? 'Simulator' : channel.target === 'parley' ? 'Built in' : 'Live';
  return (
    <li
      className="channel-card"
      aria-labelledby={`channel-${channel.channelId}`}
      data-channel={channel.channelId}
    >
      <div className="channel-card-head">
        <h4 id={`channel-${channel.channelId}`} dir="auto">
          {channel.name}
        </h4>
        <span className="badge">{PLATFORM_LABEL[channel.platform]}</span>
        <span className="badge muted">{target}</span>
      </div>
      {fresh ? (
        <p className="channel-done" role="status">
          {channel.webhookUrl
            ? `Connected. Paste the webhook URL${channel.verifyToken ? ' and verify token' : ''} into ${PLATFORM_LABEL[channel.platform]}${channel.platform === 'telegram' ? ' (done for you: Parley set the webhook)' : ''}.`
            : 'Connected. Set the widget below and copy its snippet into your site.'}
        </p>
      ) : null}
      {channel.webhookUrl ? <CopyField label="Webhook URL" value={absolute(channel.webhookUrl)} /> : null}
      {channel.verifyToken ? <CopyField label="Verify token" value={channel.verifyToken} /> : null}
      {channel.credentials.length > 0 ? (
        <div className="channel-credentials">
          <p>
            Credentials:{' '}
            {channel.credentials.map((field) => (
              <span key={field.key} className="saved">
                {field.label} saved
              </span>
            ))}
          </p>
          <button
            type="button"
            className="ghost small"
            disabled={!online}
            onClick={() => setReplacing((open) => !open)}
          >
            {replacing ? 'Cancel' : 'Replace credentials'}
          </button>
          {replacing ? (
            <ReplaceCredentials
              client={client}
              channel={channel}
              onSaved={(text) => {
                setReplacing(false);
                setOutcome({ kind: 'done', text });
                onChanged();
              }}
            />
          ) : null}
        </div>
      ) : null}
      {channel.platform !== 'webchat' ? (
        <p className="channel-last">
          <strong>Last webhook:</strong> {lastWebhookText(channel)} {refusalsText(channel)}
        </p>
      ) : null}
      {channel.widget ? (
        <WidgetSettingsForm
          client={client}
          online={online}
          channelId={channel.channelId}
          widget={{ ...channel.widget, previewUrl: absolute(channel.widget.previewUrl) }}
          onSaved={onChanged}
        />
      ) : null}
      <div className="row channel-actions">
        {channel.target === 'simulator' ? (
          <button type="button" disabled={!online || busy} onClick={() => void test()}>
            Send a test message
          </button>
        ) : null}
        {metaLive ? null : (
          <>
            <label className="inline">
              Old secret works for
              <select value={graceHours} onChange={(event) => setGraceHours(Number(event.target.value))}>
                {[1, 24, 72, 168].map((hours) => (
                  <option key={hours} value={hours}>
                    {hours === 1 ? '1 hour' : `${hours} hours`}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="ghost" disabled={!online || busy} onClick={() => void rotate()}>
              Rotate secret
            </button>
          </>
        )}
      </div>
      {metaLive ? (
        <p className="muted">
          Meta makes this app&rsquo;s secret: to rotate it, reset it in the Meta app and save the new one
          under Replace credentials. The old one stays accepted for 24 hours.
        </p>
      ) : null}
      {channel.previousSecretExpiresAt ? (
        <p className="muted">
          The previous secret is accepted until {new Date(channel.previousSecretExpiresAt).toLocaleString()}.
        </p>
      ) : null}
      <OutcomeLine outcome={outcome} />
    </li>
  );
}

/** New credentials for a channel: the same platform id, a new token (and Meta app secret). */
function ReplaceCredentials({
  client,
  channel,
  onSaved,
}: {
  client: Client;
  channel: Channel;
  onSaved: (text: string) => void;
}) {
  // The platform id stays; a bot's token carries its id, so Telegram starts empty.
  const idField = channel.platform === 'telegram' ? undefined : CREDENTIAL_FIELDS[channel.platform][0]?.key;
  const [values, setValues] = useState<Record<string, string>>(
    idField ? { [idField]: channel.externalId } : {},
  );
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await client.admin.channels.replaceCredentials.mutate({
        channelId: channel.channelId,
        credentials: values,
      });
      onSaved('New credentials saved. The old app secret stays accepted for 24 hours.');
    } catch (failure) {
      setError(refusalText(failure, 'The credentials were not replaced'));
    }
  }
  return (
    <form
      className="channel-replace"
      onSubmit={(event) => void submit(event)}
      aria-label={`New credentials for ${channel.name}`}
    >
      {CREDENTIAL_FIELDS[channel.platform].map((field) => (
        <label key={field.key}>
          {field.label}
          <input
            value={values[field.key] ?? ''}
            type={/token|secret/i.test(field.key) ? 'password' : 'text'}
            autoComplete="off"
            required
            onChange={(event) => setValues({ ...values, [field.key]: event.target.value })}
          />
        </label>
      ))}
      <ErrorLine error={error} />
      <button type="submit">Save new credentials</button>
    </form>
  );
}
