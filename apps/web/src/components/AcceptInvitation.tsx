import { useEffect, useState, type FormEvent } from 'react';
import type { Client } from '../lib/api/client';
import { peopleRefusal, ROLE_HINTS, ROLE_LABELS } from '../lib/people';
import { signIn, type Account } from '../lib/session';

type Opened = Awaited<ReturnType<Client['invitations']['open']['query']>>;
const MIN_PASSWORD = 10;

/**
 * The page an invitation link opens (`/invite#<key>`, decision 0035): the invitee sees the
 * workspace, their email and role, sets their name and password, and is signed in. A used,
 * withdrawn or expired link says so and what to do.
 */
export function AcceptInvitation({
  client,
  invitationKey,
  onSignedIn,
}: {
  client: Client;
  invitationKey: string;
  onSignedIn: (account: Account) => void;
}) {
  const [opened, setOpened] = useState<Opened | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void client.invitations.open
      .query({ key: invitationKey })
      .then(setOpened, (caught: unknown) => setProblem(peopleRefusal(caught, 'Opening the invitation')));
  }, [client, invitationKey]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!opened) return;
    const form = new FormData(event.currentTarget);
    const field = (key: string) => {
      const value = form.get(key);
      return typeof value === 'string' ? value : '';
    };
    const name = field('name');
    const password = field('password');
    if (password.length < MIN_PASSWORD) {
      setError(`A password needs at least ${MIN_PASSWORD} characters.`);
      return;
    }
    if (password !== field('again')) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { tenantId } = await client.invitations.accept.mutate({ key: invitationKey, name, password });
      onSignedIn(await signIn(client, { tenantId, email: opened.email, password }));
    } catch (caught) {
      setError(peopleRefusal(caught, 'Joining'));
    } finally {
      setBusy(false);
    }
  }

  if (problem) {
    return (
      <section className="sign-in" aria-labelledby="invite-heading">
        <h2 id="invite-heading">This invitation cannot be used</h2>
        <p role="alert" className="error">
          {problem}
        </p>
        <a href="/">Go to sign-in</a>
      </section>
    );
  }
  if (!opened) return <p className="muted">Opening your invitation…</p>;
  return (
    <form className="sign-in" onSubmit={(event) => void submit(event)} aria-labelledby="invite-heading">
      <h2 id="invite-heading">Join {opened.workspace} on Parley</h2>
      <p>
        You are invited as <strong>{ROLE_LABELS[opened.role].toLowerCase()}</strong> (
        {ROLE_HINTS[opened.role]}). Choose your name and a password to sign in with.
      </p>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" value={opened.email} readOnly />
      </label>
      <label>
        Your name
        <input name="name" autoComplete="name" required maxLength={120} />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_PASSWORD}
        />
      </label>
      <label>
        Password again
        <input name="again" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD} />
      </label>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Joining…' : 'Join and sign in'}
      </button>
    </form>
  );
}
