/**
 * Agent configuration: JSON or YAML, validated with zod. Errors name the file and the field path,
 * e.g. `agent.yaml: apps[0].stopTimeoutMs: expected number, received string`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { isIP } from "node:net";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DEFAULT_AGENT_PORT, Mode } from "../protocol/agent";

const name = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, . _ - only");
const ms = (def: number, min = 1) => z.number().int().min(min).default(def);
const envMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable name"), z.string());

const ScriptDriver = z
  .object({
    enable: z.string().min(1),
    disable: z.string().min(1),
    status: z.string().min(1).optional(),
    timeoutMs: ms(10_000),
  })
  .strict();

export const VipConfig = z
  .object({
    name,
    address: z.string().refine((a) => isIP(a) === 4, "expected an IPv4 address"),
    prefix: z.number().int().min(1).max(32).default(24),
    interface: z.string().min(1).max(15).default("eth0"),
    driver: z.enum(["linux", "script", "simulated"]),
    garp: z
      .object({
        count: z.number().int().min(0).max(50).default(5),
        intervalMs: ms(200),
        /** ARP request (arping -U, the default), ARP reply (arping -A), or both: some devices accept only one. */
        mode: z.enum(["request", "reply", "both"]).default("request"),
        /** Announce again every refreshMs while enabled (0 = never; at least 1000). */
        refreshMs: z.number().int().refine((n) => n === 0 || n >= 1000, "0 (off) or at least 1000").default(0),
      })
      .strict()
      .default({ count: 5, intervalMs: 200, mode: "request", refreshMs: 0 }),
    dad: z
      .object({
        /** Periodic `arping -D` while enabled. */
        enabled: z.boolean().default(true),
        intervalMs: ms(10_000, 100),
        /** Also check before enabling (adds up to timeoutMs to the failover path when the address is free). */
        beforeEnable: z.boolean().default(false),
        /** arping -w (whole seconds, at least 1). */
        timeoutMs: ms(1000, 1000),
      })
      .strict()
      .default({ enabled: true, intervalMs: 10_000, beforeEnable: false, timeoutMs: 1000 }),
    /** How often the observed state is read from the interface / status script. */
    observeIntervalMs: ms(2000, 100),
    scripts: ScriptDriver.optional(),
    /**
     * linux driver: run `ip addr add/del` and the first gratuitous ARP through one resident /bin/sh per VIP
     * (no fork of the agent on the hot path); false: spawn them from the agent (if /bin/sh is unusable).
     */
    residentHelper: z.boolean().default(true),
    /**
     * Self-fencing: take this VIP down when no controller has pinged for the time the controller gives
     * (its pair's heartbeat timeout + disconnect grace: about when it promotes the other host), so that a
     * host cut off from the controller stops answering on the VIP instead of holding it with the new
     * primary. false: keep it (a controller outage then never takes the VIP down).
     */
    fence: z.boolean().default(true),
    /** Commands used by the linux driver (argument 0 only; looked up in PATH). */
    commands: z.object({ ip: z.string().default("ip"), arping: z.string().default("arping") }).strict().default({ ip: "ip", arping: "arping" }),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.driver === "script" && !v.scripts)
      ctx.addIssue({ code: "custom", path: ["scripts"], message: "required when driver is script" });
  });
export type VipConfig = z.infer<typeof VipConfig>;

/** A JSON value of a JSON-RPC hook's params (strings may hold the `{mode}` placeholder). */
const rpcParam = z.union([z.string().max(256), z.number(), z.boolean(), z.null()]);
/** JSON-RPC params: by position (an array) or by name (an object), flat JSON values. */
const rpcParams = z.union([
  z.array(rpcParam).max(16),
  z.record(z.string().min(1).max(64), rpcParam).refine((o) => Object.keys(o).length <= 16, "at most 16 params"),
]);
const rpcMethod = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, "a JSON-RPC method name: letters, digits, . _ : - only");
/** Extra request headers (e.g. Authorization): sent, never logged nor reported. */
const headers = z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "an HTTP header name"), z.string().max(4096).regex(/^[^\r\n]*$/, "no line breaks"));

const ModeHook = z.discriminatedUnion("type", [
  z.object({ type: z.literal("http"), url: z.url({ protocol: /^https?$/ }), timeoutMs: ms(2000) }).strict(),
  /**
   * JSON-RPC 2.0 over HTTP POST (Kamailio jsonrpcs + xhttp, OpenSIPS mi_http ...): no program started,
   * one kept-alive connection. set: `setMethod` with `setParams` (every "{mode}" in a string becomes
   * primary|backup); any result without an error confirms (a result naming the other mode refuses).
   * get: `getMethod` with `getParams`; the result must name exactly one of primary/backup.
   */
  z
    .object({
      type: z.literal("jsonrpc"),
      url: z.url({ protocol: /^https?$/ }),
      setMethod: rpcMethod,
      setParams: rpcParams.refine((p) => Object.values(p).some((v) => typeof v === "string" && v.includes("{mode}")), 'must contain "{mode}" in one of its strings (how the mode reaches the app)'),
      getMethod: rpcMethod.optional(),
      getParams: rpcParams.default([]),
      headers: headers.default({}),
      timeoutMs: ms(2000),
    })
    .strict(),
  z
    .object({ type: z.literal("command"), command: z.string().min(1), args: z.array(z.string()).default([]), timeoutMs: ms(5000) })
    .strict(),
]);
export type ModeHook = z.infer<typeof ModeHook>;

const probeCommon = {
  intervalMs: ms(1000, 10),
  timeoutMs: ms(500, 10),
  failureThreshold: z.number().int().min(1).default(3),
  /**
   * What to do when the app is declared hung: report it and restart it (like a failed app: restart policy,
   * backoff, crash-loop rule; Genesys `hangup-restart` defaults to true), or only report it.
   */
  onHung: z.enum(["report", "restart"]).default("restart"),
};
const Probe = z.discriminatedUnion("type", [
  z.object({ type: z.literal("command"), command: z.string().min(1), args: z.array(z.string()).default([]), ...probeCommon }).strict(),
  z.object({ type: z.literal("http"), url: z.url({ protocol: /^https?$/ }), ...probeCommon }).strict(),
  z
    .object({
      type: z.literal("sip"),
      host: z.string().refine((a) => isIP(a) !== 0, "expected an IP address"),
      port: z.number().int().min(1).max(65535).default(5060),
      ...probeCommon,
    })
    .strict(),
]);
export type ProbeConfig = z.infer<typeof Probe>;

export const AppConfig = z
  .object({
    name,
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: envMap.default({}),
    cwd: z.string().optional(),
    stopTimeoutMs: ms(5000),
    /** How long `starting` may last (until the first successful probe) before the start counts as failed. */
    startTimeoutMs: ms(10_000),
    restart: z
      .object({
        policy: z.enum(["never", "on-failure", "always"]).default("on-failure"),
        backoffMs: ms(500, 0),
        maxBackoffMs: ms(30_000, 0),
        crashLoop: z.object({ maxRestarts: z.number().int().min(0).default(5), windowMs: ms(60_000) }).strict().default({ maxRestarts: 5, windowMs: 60_000 }),
      })
      .strict()
      .default({ policy: "on-failure", backoffMs: 500, maxBackoffMs: 30_000, crashLoop: { maxRestarts: 5, windowMs: 60_000 } }),
    /** Start the app when the agent starts (unless it is already running), optionally in a mode. */
    autostart: z.union([z.boolean(), z.object({ mode: Mode.optional() }).strict()]).default(false),
    modeHook: ModeHook.optional(),
    probe: Probe.optional(),
    vip: name.optional(),
    /**
     * A forking server's other processes once its main process is gone (exit, kill -9, stop): `kill` ends
     * its process group, its session and their descendants (SIGTERM, SIGKILL after stopTimeoutMs) and
     * reports them; `report` only reports them. `scanIntervalMs`: how often /proc is scanned while the app
     * runs for descendants that left the group and session (setsid) and whose parent may die before the
     * app's main process does; 0 = never (those found through a live parent are still found).
     */
    group: z
      .object({ cleanup: z.enum(["kill", "report"]).default("kill"), scanIntervalMs: ms(5000, 0) })
      .strict()
      .default({ cleanup: "kill", scanIntervalMs: 5000 }),
  })
  .strict();
export type AppConfig = z.infer<typeof AppConfig>;

export const AgentConfig = z
  .object({
    agentId: z.string().min(1).max(128).optional(),
    listen: z
      .object({ host: z.string().default("0.0.0.0"), port: z.number().int().min(0).max(65535).default(DEFAULT_AGENT_PORT) })
      .strict()
      .default({ host: "0.0.0.0", port: DEFAULT_AGENT_PORT }),
    tokens: z.array(z.string().min(16, "at least 16 characters").max(512)).default([]),
    tokenFile: z.string().optional(),
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    heartbeat: z.object({ timeoutMs: ms(9000, 100) }).strict().default({ timeoutMs: 9000 }),
    stateDir: z.string().default("/var/lib/switchyard-agent"),
    /** Bad frames tolerated per window before the client is dropped. */
    badFrames: z.object({ max: z.number().int().min(1).default(5), windowMs: ms(10_000) }).strict().default({ max: 5, windowMs: 10_000 }),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
    vips: z.array(VipConfig).default([]),
    apps: z.array(AppConfig).default([]),
    /** GET /metrics (Prometheus) on a listener of its own, without authentication: bind it to a management address. */
    metrics: z
      .object({
        listen: z.object({ host: z.string().min(1).default("127.0.0.1"), port: z.number().int().min(1).max(65535) }).strict(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.vips.forEach((v, i) => {
      if (seen.has(v.name)) ctx.addIssue({ code: "custom", path: ["vips", i, "name"], message: `duplicate VIP name ${v.name}` });
      seen.add(v.name);
    });
    const apps = new Set<string>();
    const vipOwners = new Map<string, string>();
    c.apps.forEach((a, i) => {
      if (apps.has(a.name)) ctx.addIssue({ code: "custom", path: ["apps", i, "name"], message: `duplicate app name ${a.name}` });
      apps.add(a.name);
      if (a.vip !== undefined) {
        if (!seen.has(a.vip)) ctx.addIssue({ code: "custom", path: ["apps", i, "vip"], message: `no VIP named ${a.vip} in vips` });
        const owner = vipOwners.get(a.vip);
        if (owner) ctx.addIssue({ code: "custom", path: ["apps", i, "vip"], message: `VIP ${a.vip} already follows app ${owner}` });
        vipOwners.set(a.vip, a.name);
      }
    });
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

export class ConfigError extends Error {}

function formatPath(p: PropertyKey[]): string {
  let out = "";
  for (const k of p) out += typeof k === "number" ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || "(root)";
}

/** Validates already-parsed data. `label` names the source in messages (usually the file name). */
function parseConfig(data: unknown, label: string): AgentConfig {
  const r = AgentConfig.safeParse(data ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${label}: ${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(lines.join("\n"));
  }
  return r.data;
}

/** Parses JSON or YAML text (by extension; YAML is a superset of JSON anyway). */
export function parseConfigText(text: string, file: string): AgentConfig {
  const label = path.basename(file);
  let data: unknown;
  try {
    data = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${label}: not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`);
  }
  return parseConfig(data, label);
}

export interface LoadedConfig {
  config: AgentConfig;
  /** Accepted tokens (config tokens plus the token file's lines). Never log these. */
  tokens: string[];
  file: string;
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  const config = parseConfigText(text, file);
  const base = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(base, p);
  config.stateDir = resolve(config.stateDir);
  if (config.tls) config.tls = { cert: resolve(config.tls.cert), key: resolve(config.tls.key) };
  const tokens = [...config.tokens];
  if (config.tokenFile) {
    const tf = resolve(config.tokenFile);
    let t: string;
    try {
      t = readFileSync(tf, "utf8");
    } catch (e) {
      throw new ConfigError(`${path.basename(file)}: tokenFile: cannot read ${tf}: ${(e as Error).message}`);
    }
    const lines = t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    if (lines.length === 0) throw new ConfigError(`${path.basename(file)}: tokenFile: ${tf} holds no token`);
    for (const l of lines)
      if (l.length < 16) throw new ConfigError(`${path.basename(file)}: tokenFile: a token in ${tf} is shorter than 16 characters`);
    tokens.push(...lines);
  }
  for (const a of config.apps) {
    if (a.cwd) a.cwd = resolve(a.cwd);
    if (a.command.includes("/")) a.command = resolve(a.command);
  }
  for (const v of config.vips)
    if (v.scripts)
      v.scripts = {
        ...v.scripts,
        enable: resolve(v.scripts.enable),
        disable: resolve(v.scripts.disable),
        status: v.scripts.status && resolve(v.scripts.status),
      };
  return { config, tokens, file };
}
