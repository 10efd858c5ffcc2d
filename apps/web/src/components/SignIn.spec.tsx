import { fireEvent, render, screen } from '@testing-library/react';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type { Client } from '../lib/api/client';
import { SignIn } from './SignIn';

/** A client whose sign-in is refused as the server refuses too many failed attempts. */
function refusingClient(retryAfterSeconds: number): Client {
  const refusal = TRPCClientError.from({
    error: {
      message: 'too many sign-in attempts',
      code: -32029,
      data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, retryAfterSeconds },
    },
  });
  return { auth: { signIn: { mutate: () => Promise.reject(refusal) } } } as unknown as Client;
}

describe('SignIn', () => {
  it('[S7] says how long to wait after too many attempts', async () => {
    render(<SignIn client={refusingClient(42)} onSignedIn={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ana@demo.parley.test' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'guess' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Too many attempts. Try again in 42 seconds.',
    );
  });
});
