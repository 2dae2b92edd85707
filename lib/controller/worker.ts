/**
 * The controller's thread (started by thread.ts): its own event loop and its own database pool, so that
 * nothing the web server does — a flood of requests, a large body being parsed, a slow render — can
 * delay, cause or prevent a failover. Stops on the "stop" message from its parent.
 */
import { parentPort, workerData } from "node:worker_threads";
import { log } from "@/lib/log";
import { closeDb } from "@/lib/db";
import { runController } from "./index";

const data = workerData as { databaseUrl: string };
// The thread's pool (lib/db, built on first use) connects where its parent said, as its leader lock does.
process.env.DATABASE_APP_URL = data.databaseUrl;
const clog = log.child({ thread: "controller" });
const handle = runController({ log: clog, databaseUrl: data.databaseUrl });

parentPort!.on("message", (m: unknown) => {
  if (m !== "stop") return;
  void (async () => {
    await handle.stop().catch((err) => clog.error("controller: stop failed", { err }));
    await closeDb();
    parentPort!.postMessage("stopped");
    parentPort!.close();
  })();
});
