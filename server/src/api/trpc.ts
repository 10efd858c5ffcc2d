import { initTRPC, StandardSchemaV1Error, TRPCError } from '@trpc/server';
import { changesSettings, isDomainError, readsReports } from '@parley/domain';
import { SignInRateLimitedError } from '../auth/service';
import type { AgentRecord } from '../auth/accounts';
import type { Session } from '../auth/sessions';
import type { TenantId } from '@parley/domain';
import type { Context } from './context';
import { trpcCodeForError } from './errors';

/** One issue of an input that failed validation, for the form that sent it. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // Domain rule codes travel as data; stack traces and internal messages never leave the server
    // (the HTTP server logs them).
    const cause = error.cause;
    const { stack: _stack, ...data } = shape.data;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      message: internal ? 'internal server error' : shape.message,
      data: {
        ...data,
        ...(isDomainError(cause)
          ? { domainCode: cause.code, rule: cause.details.rule ?? null, hint: cause.details.hint ?? null }
          : {}),
        ...(cause instanceof SignInRateLimitedError
          ? { retryAfterMs: cause.retryAfterMs, retryAfterSeconds: cause.retryAfterSeconds }
          : {}),
        ...(error.code === 'BAD_REQUEST' && hasIssues(cause) ? { issues: inputIssues(cause) } : {}),
      },
    };
  },
  sse: {
    // A ping every 10 s keeps proxies from closing a quiet stream; a client that hears nothing for
    // 25 s reconnects (resuming after its last event id).
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
});

/** Input validation failures: zod's own error, or the Standard Schema error tRPC makes of others. */
function hasIssues(cause: unknown): cause is Pick<StandardSchemaV1Error, 'issues'> {
  return (
    cause instanceof StandardSchemaV1Error ||
    (cause instanceof Error &&
      cause.name === 'ZodError' &&
      Array.isArray((cause as { issues?: unknown }).issues))
  );
}

function inputIssues(error: Pick<StandardSchemaV1Error, 'issues'>): InputIssue[] {
  return error.issues.map((issue) => ({
    path: (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.'),
    message: issue.message,
  }));
}

/** Builds routers; one file per resource under `routers/`. */
export const router = t.router;
/** `createCaller` for tests and in-process callers. */
export const createCallerFactory = t.createCallerFactory;

/** Turns domain refusals and conflicts thrown by a procedure into tRPC errors with their codes. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') {
    const cause = result.error.cause;
    const code = trpcCodeForError(cause);
    if (code) throw new TRPCError({ code, message: cause?.message ?? code, cause });
  }
  return result;
});

/** The context of a procedure behind `authedProcedure`: the session and its tenant and agent. */
export interface AuthedContext extends Context {
  readonly session: Session;
  readonly tenantId: TenantId;
  readonly agent: AgentRecord;
}

/** Open to anyone: health and sign-in. */
export const publicProcedure = t.procedure.use(mapErrors);

/**
 * Needs a live session. Adds `session`, `tenantId` and `agent` to the context: every tenant-scoped
 * procedure takes its tenant from here and never from its input.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const session = await ctx.resolveSession();
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
  const authed: Omit<AuthedContext, keyof Context> = {
    session,
    tenantId: session.tenantId,
    agent: session.agent,
  };
  return next({ ctx: authed });
});

/** Needs a live session of an admin of its tenant: whatever changes the workspace's settings (PE1). */
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!changesSettings(ctx.agent.role)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'only an admin of this workspace may do this' });
  }
  return next();
});

/** Needs a live session of an admin or a supervisor of its tenant: the reports (PE1). */
export const reportsProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!readsReports(ctx.agent.role)) {
    throw new TRPCError({
      code: 'FORBIDDEN',
      message: 'only an admin or a supervisor of this workspace may read this',
    });
  }
  return next();
});

export { TRPCError };
