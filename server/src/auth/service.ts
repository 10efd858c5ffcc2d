import { DomainError, isTenantId } from '@parley/domain';
import type { SqlDriver } from '../db/driver';
import { findAgentForSignIn, normaliseEmail } from './accounts';
import { verifyDecoy, verifyPassword } from './passwords';
import { createRateLimiter, type RateLimit } from './rate-limit';
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

/** Too many sign-in attempts: try again after `retryAfterMs`. */
export class SignInRateLimitedError extends DomainError<typeof AuthErrorCode.SIGN_IN_RATE_LIMITED> {
  constructor(readonly retryAfterMs: number) {
    const seconds = Math.ceil(retryAfterMs / 1000);
    super(AuthErrorCode.SIGN_IN_RATE_LIMITED, 'too many sign-in attempts', {
      hint: `wait ${seconds} s before trying again`,
    });
  }
}

/** Clock, session lifetimes and sign-in limits; tests shorten them. */
export interface AuthOptions {
  readonly clock?: () => number;
  readonly sessions?: Partial<SessionPolicy>;
  /** Attempts per tenant and email: a guess at one account. Defaults to 5 per 15 minutes. */
  readonly accountLimit?: RateLimit;
  /** Attempts per client address: a guess at many accounts. Defaults to 30 per 15 minutes. */
  readonly addressLimit?: RateLimit;
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

const FIFTEEN_MINUTES = 15 * 60_000;

/** Creates the sign-in service over the database. */
export function createAuth(sql: SqlDriver, options: AuthOptions = {}): Auth {
  const clock = options.clock ?? Date.now;
  const policy: SessionPolicy = { ...DEFAULT_SESSION_POLICY, ...options.sessions };
  const accounts = createRateLimiter(
    options.accountLimit ?? { attempts: 5, windowMs: FIFTEEN_MINUTES },
    clock,
  );
  const addresses = createRateLimiter(
    options.addressLimit ?? { attempts: 30, windowMs: FIFTEEN_MINUTES },
    clock,
  );
  const invalid = () =>
    new DomainError(AuthErrorCode.INVALID_CREDENTIALS, 'the workspace, email or password is wrong');

  return {
    clock,
    policy,
    async signIn({ tenantId, email, password, address }) {
      const accountKey = `${tenantId}/${normaliseEmail(email)}`;
      // Both limits count every attempt before any password is checked: a refused guess costs nothing.
      for (const decision of [addresses.hit(address), accounts.hit(accountKey)]) {
        if (!decision.allowed) throw new SignInRateLimitedError(decision.retryAfterMs);
      }
      if (!isTenantId(tenantId)) throw invalid();
      const found = await withTenant(sql, tenantId, (tx) => findAgentForSignIn(tx, email));
      const ok = found ? await verifyPassword(found.passwordHash, password) : await verifyDecoy(password);
      if (!found || !ok) throw invalid();
      accounts.reset(accountKey);
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
