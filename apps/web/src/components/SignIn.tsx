import { useState, type FormEvent } from 'react';
import { errorData, type Client } from '../lib/api/client';
import { signIn, type Account } from '../lib/session';

/** The sign-in form; also shown over the app when a session ends, with the workspace and email filled in. */
export function SignIn({
  client,
  onSignedIn,
  known,
  heading = 'Sign in to Parley',
}: {
  client: Client;
  onSignedIn: (account: Account) => void;
  known?: { tenantId: string; email: string };
  heading?: string;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const field = (name: string) => {
      const value = form.get(name);
      return typeof value === 'string' ? value : '';
    };
    setBusy(true);
    setError(null);
    try {
      const account = await signIn(client, {
        tenantId: field('tenantId'),
        email: field('email'),
        password: field('password'),
      });
      onSignedIn(account);
    } catch (caught) {
      const data = errorData(caught);
      setError(
        data?.httpStatus === 401
          ? 'The workspace, email or password is wrong.'
          : data?.httpStatus === 429
            ? tooManyAttempts(data.retryAfterSeconds)
            : navigator.onLine
              ? 'Parley could not sign you in. Try again.'
              : 'You are offline. Signing in needs a connection.',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="sign-in" onSubmit={(event) => void submit(event)} aria-labelledby="sign-in-heading">
      <h2 id="sign-in-heading">{heading}</h2>
      <label>
        Workspace
        <input
          name="tenantId"
          autoComplete="organization"
          required
          defaultValue={known?.tenantId ?? 'demo'}
        />
      </label>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required defaultValue={known?.email ?? ''} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

/** Says how long to wait, when the server said. */
function tooManyAttempts(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) {
    return 'Too many attempts. Wait a moment and try again.';
  }
  const wait = Math.ceil(seconds);
  return `Too many attempts. Try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`;
}
