// Generates the Prisma client into lib/generated/prisma (gitignored). Runs at postinstall and by
// `npm run db:generate`. Works offline: the Prisma CLI insists on resolving a native schema engine for
// every command and would try to download one; generation never runs it, so we point
// PRISMA_SCHEMA_ENGINE_BINARY at an existing file (this script) unless the caller set a real one.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "node_modules", "prisma", "build", "index.js");
if (!existsSync(cli)) {
  console.error(JSON.stringify({ level: "error", msg: "prisma CLI not installed; run npm install", cli }));
  process.exit(1);
}

const env: NodeJS.ProcessEnv = {
  ...process.env,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
  PRISMA_SKIP_POSTINSTALL_GENERATE: "1",
};
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = fileURLToPath(import.meta.url);
}

const started = Date.now();
const r = spawnSync(process.execPath, [cli, "generate", "--schema", "prisma/schema.prisma"], {
  cwd: root,
  env,
  encoding: "utf8",
});
if (r.status !== 0) {
  process.stderr.write(r.stdout ?? "");
  process.stderr.write(r.stderr ?? "");
  console.error(JSON.stringify({ level: "error", msg: "prisma generate failed", status: r.status }));
  process.exit(r.status ?? 1);
}
console.log(
  JSON.stringify({
    level: "info",
    msg: "prisma client generated",
    output: "lib/generated/prisma",
    ms: Date.now() - started,
  }),
);
