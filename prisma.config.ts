import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs here; the migrations are applied by server/src/db/migrator.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
});
