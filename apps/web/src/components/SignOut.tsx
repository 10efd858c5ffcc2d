import { useState } from 'react';
import { useLiveQuery } from '../lib/hooks';
import { eraseDeviceData, type Session } from '../lib/session';

/**
 * Signing out asks whether to erase this device's copy of the data (0018): on a shared device the
 * conversations should not stay behind. Replies still queued would be lost, so it says how many.
 */
export function SignOutPanel({
  session,
  onSignedOut,
  onCancel,
}: {
  session: Session;
  onSignedOut: () => void;
  onCancel: () => void;
}) {
  const queued = useLiveQuery(() => session.db.outbox.count(), [session.db]) ?? 0;
  const [busy, setBusy] = useState(false);
  const finish = async (erase: boolean) => {
    setBusy(true);
    await dropPushSubscription(session);
    await session.signOut();
    onSignedOut();
    // After the screens using the database are gone, so nothing reads it while it is deleted.
    if (erase) await eraseDeviceData(session.account);
  };
  return (
    <div className="sign-out notice" role="dialog" aria-labelledby="sign-out-title">
      <p id="sign-out-title">Erase this device's copy of your conversations when you sign out?</p>
      {queued > 0 ? (
        <p role="alert">
          {queued} {queued === 1 ? 'reply is' : 'replies are'} still waiting to be sent: erasing now loses{' '}
          {queued === 1 ? 'it' : 'them'}. Stay signed in until {queued === 1 ? 'it is' : 'they are'} sent, or
          keep this device's copy.
        </p>
      ) : null}
      <button type="button" disabled={busy} onClick={() => void finish(true)}>
        {queued > 0 ? `Erase anyway (${queued} lost)` : 'Sign out and erase'}
      </button>
      <button type="button" disabled={busy} onClick={() => void finish(false)}>
        Sign out, keep on this device
      </button>
      <button type="button" className="ghost" disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

/** A "Sign out" button that opens the question above beside it. */
export function SignOutButton({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const [asking, setAsking] = useState(false);
  return (
    <>
      <button type="button" className="ghost" aria-expanded={asking} onClick={() => setAsking(!asking)}>
        Sign out
      </button>
      {asking ? (
        <SignOutPanel session={session} onSignedOut={onSignedOut} onCancel={() => setAsking(false)} />
      ) : null}
    </>
  );
}

/**
 * The next person on a shared phone must not get this one's notifications: the device's push
 * subscription is dropped (on the server first, while the session still holds) on every sign-out.
 */
async function dropPushSubscription(session: Session): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    const subscription = await registration?.pushManager?.getSubscription();
    if (!subscription) return;
    await session.client.notifications.unsubscribe
      .mutate({ endpoint: subscription.endpoint })
      .catch(() => undefined);
    await subscription.unsubscribe();
  } catch {
    // No service worker or no push on this browser: nothing to drop.
  }
}
