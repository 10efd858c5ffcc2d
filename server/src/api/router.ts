import { healthProcedure } from './health';
import { adminRouter } from './routers/admin';
import { agentsRouter } from './routers/agents';
import { auditRouter } from './routers/audit';
import { authRouter } from './routers/auth';
import { boardsRouter } from './routers/boards';
import { catalogRouter } from './routers/catalog';
import { contactsRouter } from './routers/contacts';
import { invitationsRouter } from './routers/people';
import { conversationsRouter } from './routers/conversations';
import { notificationsRouter } from './routers/notifications';
import { presenceRouter } from './routers/presence';
import { reportsRouter } from './routers/reports';
import { syncRouter } from './routers/sync';
import { router } from './trpc';

/** The whole API. The PWA imports only `type AppRouter` from here. */
export const appRouter = router({
  health: healthProcedure,
  auth: authRouter,
  invitations: invitationsRouter,
  conversations: conversationsRouter,
  agents: agentsRouter,
  boards: boardsRouter,
  catalog: catalogRouter,
  admin: adminRouter,
  contacts: contactsRouter,
  reports: reportsRouter,
  audit: auditRouter,
  presence: presenceRouter,
  notifications: notificationsRouter,
  sync: syncRouter,
});

/** The API's type: the client's only import from the server. */
export type AppRouter = typeof appRouter;
