import { DomainError, isTenantId } from '@parley/domain';
import type { SqlDriver } from '../db/driver';
import { findAgentForSignIn, normaliseEmail } from './accounts';
import { verifyDecoy, verifyPassword } from './passwords';
import { createFailureLimiter, type BackoffPolicy } from './rate-limit';
import {
  createSession,
  DEFAULT_SESSION_POLICY,
  endAgentSessions,
  endSession,
  findSession,
  type Session,
  type SessionPolicy,
} from './sessions';
import { withTenant } from './tenant-scope';

/** Refusals of sign-in, mapped to API errors. */
export const AuthErrorCode = {
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  SIGN_IN_RATE_LIMITED: 'SIGN_IN_RATE_LIMITED',
} as const;

/** Too many failed sign-ins: try again after `retryAfterMs` (whole seconds in `retryAfterSeconds`). */
export class SignInRateLimitedError extends DomainError<typeof AuthErrorCode.SIGN_IN_RATE_LIMITED> {
  readonly retryAfterSeconds: number;
  constructor(readonly retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(AuthErrorCode.SIGN_IN_RATE_LIMITED, 'too many sign-in attempts', {
      hint: `wait ${seconds} s before trying again`,
    });
    this.retryAfterSeconds = seconds;
  }
}

/** Clock, session lifetimes and sign-in limits; tests shorten them. */
export interface AuthOptions {
  readonly clock?: () => number;
  readonly sessions?: Partial<SessionPolicy>;
  /** Failures per tenant and email (a guess at one account); see `ACCOUNT_BACKOFF`. */
  readonly accountBackoff?: Partial<BackoffPolicy>;
  /** Failures per client address (a guess at many accounts); see `ADDRESS_BACKOFF`. */
  readonly addressBackoff?: Partial<BackoffPolicy>;
}

/** What signing in needs; `address` is the client's IP address. */
export interface SignInRequest {
  readonly tenantId: string;
  readonly email: string;
  readonly password: string;
  readonly address: string;
}

/** Password sign-in and the sessions it starts. */
export interface Auth {
  readonly clock: () => number;
  readonly policy: SessionPolicy;
  /** Checks the password (rate-limited) and starts a session; the cookie value carries it. */
  signIn(request: SignInRequest): Promise<{ readonly session: Session; readonly cookieValue: string }>;
  /** The live session of a cookie value, or null. */
  resolve(cookieValue: string | undefined): Promise<Session | null>;
  signOut(session: Session): Promise<void>;
  /** Ends all of the agent's sessions on every device; returns how many. */
  signOutEverywhere(session: Session): Promise<number>;
}

const MINUTE = 60_000;

/** 5 failures free, then 1 s, 2 s, 4 s … up to 5 minutes between attempts; forgotten after 15 quiet minutes. */
export const ACCOUNT_BACKOFF: BackoffPolicy = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5 * MINUTE,
  forgetAfterMs: 15 * MINUTE,
  maxKeys: 10_000,
};

/** 30 failures free, then 1 s, 2 s, 4 s … up to 15 minutes; forgotten after an hour without one. */
export const ADDRESS_BACKOFF: BackoffPolicy = {
  freeFailures: 30,
  baseDelayMs: 1000,
  maxDelayMs: 15 * MINUTE,
  forgetAfterMs: 60 * MINUTE,
  maxKeys: 10_000,
};

/** Creates the sign-in service over the database. */
export function createAuth(sql: SqlDriver, options: AuthOptions = {}): Auth {
  const clock = options.clock ?? Date.now;
  const policy: SessionPolicy = { ...DEFAULT_SESSION_POLICY, ...options.sessions };
  const accounts = createFailureLimiter({ ...ACCOUNT_BACKOFF, ...options.accountBackoff }, clock);
  const addresses = createFailureLimiter({ ...ADDRESS_BACKOFF, ...options.addressBackoff }, clock);
  const invalid = () =>
    new DomainError(AuthErrorCode.INVALID_CREDENTIALS, 'the workspace, email or password is wrong');

  return {
    clock,
    policy,
    async signIn({ tenantId, email, password, address }) {
      const accountKey = `${tenantId}/${normaliseEmail(email)}`;
      // The address first: a refused address never reaches the account, so one address guessing
      // cannot keep someone else's account waiting. An attempt let through counts as a failure
      // until it succeeds, so parallel guesses cannot all slip past before the first one fails.
      const byAddress = addresses.attempt(address);
      if (!byAddress.allowed) throw new SignInRateLimitedError(byAddress.retryAfterMs);
      const byAccount = accounts.attempt(accountKey);
      if (!byAccount.allowed) {
        addresses.succeeded(address); // refused unchecked: not a failure of this address
        throw new SignInRateLimitedError(byAccount.retryAfterMs);
      }
      if (!isTenantId(tenantId)) throw invalid();
      const found = await withTenant(sql, tenantId, (tx) => findAgentForSignIn(tx, email));
      const ok = found ? await verifyPassword(found.passwordHash, password) : await verifyDecoy(password);
      if (!found || !ok) throw invalid();
      addresses.succeeded(address);
      accounts.forget(accountKey);
      return createSession(sql, found.agent, clock(), policy);
    },
    async resolve(cookieValue) {
      if (!cookieValue) return null;
      return findSession(sql, cookieValue, clock(), policy);
    },
    signOut: (session) => endSession(sql, session),
    signOutEverywhere: (session) => endAgentSessions(sql, session),
  };
}
