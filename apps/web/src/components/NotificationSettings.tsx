import type { NotificationPreferences } from '@parley/domain';
import { useEffect, useId, useState } from 'react';
import {
  currentPushSubscription,
  playChime,
  pushSupported,
  storedPreferences,
  storePreferences,
} from '../lib/notify';
import type { Session } from '../lib/session';

type PushState = 'checking' | 'unsupported' | 'denied' | 'off' | 'on';

const CHOICES: readonly [keyof NotificationPreferences, string][] = [
  ['assigned', 'A conversation is assigned to me'],
  ['customer_replied', 'A customer answers in a conversation assigned to me'],
  ['mentioned', 'Someone mentions me in a private note'],
];

/** The key as `PushManager.subscribe` takes it: the server gives it base64url-encoded. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replaceAll('-', '+').replaceAll('_', '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Settings › Notifications (#15 item 8): push on this device, what the agent is told of, and the
 * sound in the open app. Choices are the agent's on every device; push is per device.
 */
export function NotificationSettings({ session, online }: { session: Session; online: boolean }) {
  const { client, account } = session;
  const scope = `${account.tenantId}:${account.agent.id}`;
  const [preferences, setPreferences] = useState(() => storedPreferences(scope));
  const [push, setPush] = useState<PushState>('checking');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const id = useId();

  useEffect(() => {
    if (!online) return;
    void client.notifications.settings.query().then(
      (answer) => {
        setPreferences(answer);
        storePreferences(scope, answer);
      },
      () => undefined, // the stored choices stay until the server answers
    );
  }, [client, scope, online]);
  useEffect(() => {
    if (!pushSupported()) return setPush('unsupported');
    if (Notification.permission === 'denied') return setPush('denied');
    void currentPushSubscription().then((subscription) => setPush(subscription ? 'on' : 'off'));
  }, []);

  async function choose(key: keyof NotificationPreferences, value: boolean) {
    const before = preferences;
    const next = { ...preferences, [key]: value };
    setPreferences(next);
    setMessage(null);
    try {
      const saved = await client.notifications.updateSettings.mutate({ [key]: value });
      setPreferences(saved);
      storePreferences(scope, saved);
      if (key === 'sound' && value) playChime();
    } catch {
      setPreferences(before);
      setMessage({
        error: true,
        text: 'Your choice was not saved: the server could not be reached. Try again.',
      });
    }
  }

  async function turnOn() {
    setBusy(true);
    setMessage(null);
    try {
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        setPush(permission === 'denied' ? 'denied' : 'off');
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const { publicKey } = await client.notifications.publicKey.query();
      const subscription =
        (await registration.pushManager.getSubscription()) ??
        (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(publicKey),
        }));
      const json = subscription.toJSON();
      await client.notifications.subscribe.mutate({
        endpoint: subscription.endpoint,
        keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
      });
      setPush('on');
      setMessage({ error: false, text: 'Notifications are on for this device.' });
    } catch (error) {
      setMessage({
        error: true,
        text: `This browser could not sign up for push messages (${error instanceof Error ? error.message : String(error)}). While Parley is open you are still told, with a sound and a desktop notification.`,
      });
    } finally {
      setBusy(false);
    }
  }

  async function turnOff() {
    setBusy(true);
    setMessage(null);
    try {
      const subscription = await currentPushSubscription();
      if (subscription) {
        await client.notifications.unsubscribe.mutate({ endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      setPush('off');
      setMessage({ error: false, text: 'Notifications are off for this device.' });
    } catch {
      setMessage({
        error: true,
        text: 'Notifications could not be turned off: the server could not be reached. Try again.',
      });
    } finally {
      setBusy(false);
    }
  }

  const status: Record<PushState, string> = {
    checking: 'Checking this device…',
    unsupported:
      'This browser cannot receive push notifications. While Parley is open you are still told in the app.',
    denied:
      'Notifications are blocked for Parley in this browser’s site settings. Allow them there to turn them on.',
    off: 'Off on this device.',
    on: 'On: this device is told even when Parley is closed.',
  };
  return (
    <section className="notification-settings" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Notifications</h3>
      <p id={`${id}-status`} className="muted">
        {status[push]}
      </p>
      {push === 'off' || push === 'on' ? (
        <button
          type="button"
          className={push === 'on' ? 'ghost' : undefined}
          disabled={busy || !online}
          aria-describedby={`${id}-status`}
          onClick={() => void (push === 'on' ? turnOff() : turnOn())}
        >
          {push === 'on' ? 'Turn off on this device' : 'Turn on for this device'}
        </button>
      ) : null}
      {online ? null : (
        <p className="notice offline" role="status">
          You are offline: your choices can be changed once the connection is back.
        </p>
      )}
      {message ? (
        <p role={message.error ? 'alert' : 'status'} className={message.error ? 'error' : 'muted'}>
          {message.text}
        </p>
      ) : null}
      <fieldset disabled={!online}>
        <legend>Tell me when</legend>
        {CHOICES.map(([key, label]) => (
          <label key={key} className="check">
            <input
              type="checkbox"
              checked={preferences[key]}
              onChange={(event) => void choose(key, event.target.checked)}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input
          type="checkbox"
          disabled={!online}
          checked={preferences.sound}
          onChange={(event) => void choose('sound', event.target.checked)}
        />
        Play a sound in the open app
      </label>
    </section>
  );
}
