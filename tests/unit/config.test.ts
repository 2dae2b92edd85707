import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, VARIABLES, variablesTable } from "@/lib/config";

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
};

describe("configuration from the environment", () => {
  it("has a working default for everything (nothing is required)", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, HOST: "0.0.0.0", DATABASE_POOL_MAX: 10, SESSION_TTL: 12 * 3_600_000, LOGIN_RATE_LIMIT: 5, LOGIN_IP_RATE_LIMIT: 30, LOGIN_RATE_WINDOW: 60_000 });
    expect(c).toMatchObject({ TRUST_PROXY: false, LOG_LEVEL: "info", REALTIME_ADAPTER: "memory", SWITCHYARD_CONTROLLER: "on", ADMIN_USERNAME: "admin" });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.ADMIN_PASSWORD).toBeUndefined();
  });

  it("reads durations with units, or seconds", () => {
    expect(loadConfig({ SESSION_TTL: "30m" }).SESSION_TTL).toBe(1_800_000);
    expect(loadConfig({ SESSION_TTL: "2d" }).SESSION_TTL).toBe(172_800_000);
    expect(loadConfig({ SESSION_TTL: "90" }).SESSION_TTL).toBe(90_000);
    expect(loadConfig({ LOGIN_RATE_WINDOW: "500ms" }).LOGIN_RATE_WINDOW).toBe(500);
    expect(loadConfig({ TRUST_PROXY: "true", PORT: " 8080 " })).toMatchObject({ TRUST_PROXY: true, PORT: 8080 });
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ PORT: "", LOG_LEVEL: " " })).toMatchObject({ PORT: 3000, LOG_LEVEL: "info" });
  });

  it("names every bad variable, with what it got and what it wants", () => {
    const p = problems({ PORT: "eighty", SESSION_TTL: "forever", REALTIME_ADAPTER: "redis", LOG_LEVEL: "verbose", PUBLIC_ORIGIN: "ftp://x", ADMIN_PASSWORD: "short" });
    expect(p.map((x) => x.split("=")[0])).toEqual(["PORT", "ADMIN_PASSWORD", "SESSION_TTL", "PUBLIC_ORIGIN", "LOG_LEVEL", "REALTIME_ADAPTER"]);
    expect(p[0]).toBe('PORT="eighty": expected a whole number');
    expect(p[2]).toMatch(/^SESSION_TTL="forever": expected a duration/);
    expect(problems({ PORT: "70000" })[0]).toMatch(/^PORT="70000": /);
    expect(problems({ SWITCHYARD_CONTROLLER: "no" })[0]).toMatch(/^SWITCHYARD_CONTROLLER="no": /);
  });

  it("is documented: docs/configuration.md lists exactly these variables", () => {
    const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    const table = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(table.sort()).toEqual(Object.keys(VARIABLES).sort());
    // ... with the same defaults and meanings (regenerate it with `npm run docs:config`)
    expect(doc).toContain(variablesTable());
  });

  it("is documented word for word: each row of the table is the variable's default and meaning from VARIABLES", () => {
    const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    const rows = doc.split("\n").filter((l) => /^\| `[A-Z_]+` \|/.test(l));
    const expected = Object.entries(VARIABLES).map(([k, [, d, m]]) => `| \`${k}\` | ${d === undefined ? "unset" : `\`${d}\``} | ${m} |`);
    expect(rows).toEqual(expected);
  });
});
