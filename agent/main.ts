/**
 * switchyard-agent: the host agent (the role of Genesys LCA).
 *
 *   switchyard-agent --config FILE [--insecure] [--check] [--forget-cluster]
 *
 *   --config FILE   JSON or YAML configuration (see docs/agent.md, examples/agent.yaml)
 *   --insecure      allow running without a token, only when listening on loopback
 *   --check         validate the configuration and exit
 *   --forget-cluster  undo the binding to a Switchyard cluster (and its epochs), for an agent moved to
 *                   another Switchyard or whose panel's database was rebuilt; then exit (agent stopped)
 */
import { Agent, StartupError } from "./agent";
import { ConfigError, loadConfigFile } from "./config";
import { StateStore } from "./store";
import { isLogLevel, log, setLogLevel } from "../lib/log";
import { SystemdNotifier } from "./systemd";

function usage(msg?: string): never {
  if (msg) process.stderr.write(`switchyard-agent: ${msg}\n`);
  process.stderr.write("usage: switchyard-agent --config FILE [--insecure] [--check] [--forget-cluster]\n");
  process.exit(2);
}

async function main() {
  // SWITCHYARD_LOG_LEVEL: the level until the configuration is read; from then on its logLevel (default info).
  const envLevel = process.env.SWITCHYARD_LOG_LEVEL;
  if (isLogLevel(envLevel)) setLogLevel(envLevel);
  const argv = process.argv.slice(2);
  let file: string | undefined;
  let insecure = false;
  let check = false;
  let forget = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--config") file = argv[++i] ?? usage("--config needs a file");
    else if (a.startsWith("--config=")) file = a.slice(9);
    else if (a === "--insecure") insecure = true;
    else if (a === "--check") check = true;
    else if (a === "--forget-cluster") forget = true;
    else if (a === "--help" || a === "-h") usage();
    else usage(`unknown argument ${a}`);
  }
  if (!file) usage("--config is required");
  let loaded;
  try {
    loaded = loadConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`switchyard-agent: invalid configuration\n${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  setLogLevel(loaded.config.logLevel);
  if (check) {
    process.stdout.write(`${file}: OK (${loaded.config.apps.length} apps, ${loaded.config.vips.length} VIPs, ${loaded.tokens.length} tokens)\n`);
    return;
  }
  if (forget) {
    const store = new StateStore(loaded.config.stateDir);
    const was = { cluster: store.state.cluster, highestEpoch: store.state.highestEpoch };
    store.state.cluster = null;
    store.state.highestEpoch = 0;
    store.save();
    process.stdout.write(`${store.file}: cluster binding forgotten (was ${was.cluster ?? "none"}, highest epoch ${was.highestEpoch}); the next controller to connect binds it\n`);
    return;
  }
  let agent: Agent;
  try {
    agent = new Agent({ config: loaded.config, tokens: loaded.tokens, insecure });
  } catch (e) {
    if (e instanceof StartupError) {
      process.stderr.write(`switchyard-agent: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  let listening: { port: number; host: string };
  try {
    listening = await agent.start();
  } catch (e) {
    process.stderr.write(`switchyard-agent: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  // Under systemd (Type=notify, WatchdogSec=): ready now, watchdog pings while the event loop runs.
  const systemd = new SystemdNotifier();
  systemd.ready(`listening on ${listening.host}:${listening.port}`);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    systemd.stopping();
    log.info("agent stopping; applications keep running", { signal: sig });
    await agent.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((e) => {
  process.stderr.write(`switchyard-agent: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
