import { router } from './trpc';
import { healthProcedure } from './health';

/** The whole API. The PWA imports only `type AppRouter` from here. */
export const appRouter = router({
  health: healthProcedure,
});

export type AppRouter = typeof appRouter;
