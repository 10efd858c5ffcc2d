import { initTRPC, TRPCError } from '@trpc/server';
import { isDomainError } from '@parley/domain';
import type { Services } from '../services';

/** What every procedure gets: the process's services (and, from the API issue on, the session). */
export interface Context {
  readonly services: Services;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // Domain rule codes travel as data; stack traces never leave the server.
    const cause = error.cause;
    const { stack: _stack, ...data } = shape.data;
    return {
      ...shape,
      data: {
        ...data,
        ...(isDomainError(cause) ? { domainCode: cause.code, rule: cause.details.rule } : {}),
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Open to anyone: health and sign-in. */
export const publicProcedure = t.procedure;

export { TRPCError };
