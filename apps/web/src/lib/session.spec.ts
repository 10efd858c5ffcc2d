import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client } from './api/client';
import { signIn, storedAccount } from './session';

/** The two calls `signIn` makes, answering as the server does for Ana at `demo` (or refusing). */
function fakeClient(refuse = false): Client {
  return {
    auth: {
      signIn: {
        mutate: vi.fn(() =>
          refuse
            ? Promise.reject(new Error('wrong email or password'))
            : Promise.resolve({
                tenantId: 'demo',
                agent: { id: 'ana', name: 'Ana', email: 'ana@demo.parley.test', role: 'agent' },
              }),
        ),
      },
      me: { query: vi.fn(() => Promise.resolve({ tenant: { name: 'Demo Co' } })) },
    },
  } as unknown as Client;
}

const credentials = { tenantId: 'demo', email: 'ana@demo.parley.test', password: 'parley-demo-agent' };

describe('signing in', () => {
  let persist: ReturnType<typeof vi.fn<() => Promise<boolean>>>;
  const original = Object.getOwnPropertyDescriptor(navigator, 'storage');

  beforeEach(() => {
    localStorage.clear();
    persist = vi.fn(() => Promise.resolve(true));
    Object.defineProperty(navigator, 'storage', { value: { persist }, configurable: true });
  });
  afterEach(() => {
    if (original) Object.defineProperty(navigator, 'storage', original);
    else Reflect.deleteProperty(navigator, 'storage');
  });

  it('asks the browser to persist storage once signed in, after the account is stored', async () => {
    persist.mockImplementation(() => {
      // Queued replies live in this storage: it is asked for only once there is an account to keep.
      expect(storedAccount()?.agent.id).toBe('ana');
      return Promise.resolve(true);
    });
    const account = await signIn(fakeClient(), credentials);
    expect(account).toMatchObject({ tenantId: 'demo', tenantName: 'Demo Co' });
    expect(persist).toHaveBeenCalledOnce();
  });

  it('does not ask when the sign-in is refused', async () => {
    await expect(signIn(fakeClient(true), credentials)).rejects.toThrow('wrong email or password');
    expect(persist).not.toHaveBeenCalled();
  });

  it('still signs in when the browser refuses (or fails) to persist', async () => {
    persist.mockRejectedValue(new Error('not allowed'));
    await expect(signIn(fakeClient(), credentials)).resolves.toMatchObject({ tenantId: 'demo' });
    expect(persist).toHaveBeenCalledOnce();
  });
});
