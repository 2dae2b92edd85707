// npm run db:migrate                      apply pending migrations (DATABASE_URL, else the embedded default)
// npm run db:migration:create -- NAME     write prisma/migrations/<timestamp>_NAME/migration.sql from the
//                                         difference between schema.prisma and the migrations folder
// npm run db:migration:create -- NAME --draft   an empty migration for hand-written SQL
// Offline: Prisma's schema engine runs as WebAssembly (lib/db/migrate.ts), no engine download.
import { initDatabase } from "../lib/db/bootstrap";
import { createMigration } from "../lib/db/migrate";

const log = {
  info: (msg: string, fields?: Record<string, unknown>) => console.log(JSON.stringify({ level: "info", msg, ...fields })),
  warn: (msg: string, fields?: Record<string, unknown>) => console.error(JSON.stringify({ level: "warn", msg, ...fields })),
  error: (msg: string, fields?: Record<string, unknown>) => console.error(JSON.stringify({ level: "error", msg, ...fields })),
};

const usage = "usage: tsx scripts/db-migrate.ts deploy | create NAME [--draft]";

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "deploy") {
    const h = await initDatabase({ log });
    await h.stop();
    return 0;
  }
  if (cmd === "create") {
    const draft = rest.includes("--draft");
    const name = rest.filter((a) => a !== "--draft")[0];
    if (!name) {
      log.error("migration name missing", { usage });
      return 2;
    }
    // Any server where we may create a (temporary) shadow database will do; the embedded default
    // is brought up to date first so that it matches the folder.
    const h = await initDatabase({ log });
    try {
      const r = await createMigration(h.url, name, { draft });
      if (!r.name) log.info("schema.prisma matches the migrations: nothing to create (use --draft for hand-written SQL)");
      else log.info("migration created", { name: r.name, path: r.path, next: "review it, then npm run db:migrate" });
    } finally {
      await h.stop();
    }
    return 0;
  }
  log.error("unknown command", { usage });
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    log.error("db-migrate failed", { error: (e as Error)?.message ?? String(e) });
    process.exit(1);
  },
);
