// Prisma 7 configuration. Used by `prisma generate` (scripts/prisma-generate.ts) and, on a machine with
// internet access, by the Prisma CLI. Migrations are normally applied and authored offline by
// lib/db/migrate.ts (Prisma's schema engine as WebAssembly); see docs/database.md.
// Prisma 7 does not read .env by itself, and generation needs no database: the URL is optional here.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // Created by a hand-written migration for @socket.io/postgres-adapter; not modelled in schema.prisma.
  experimental: { externalTables: true },
  tables: { external: ["public.socket_io_attachments"] },
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
