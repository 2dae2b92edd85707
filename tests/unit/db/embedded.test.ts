import { describe, expect, it } from "vitest";
import { embeddedUrl, parseEmbeddedState, planStart } from "@/lib/db/embedded";
import { migrationTimestamp } from "@/lib/db/migrate";
import { parseDatabaseUrl } from "@/lib/db/url";

const good = { port: 45678, user: "postgres", password: "x".repeat(32), database: "switchyard" };

describe("planStart (port choice for the embedded cluster)", () => {
  it("reuses a cluster that already answers with our credentials", () => {
    expect(planStart({ answersWithOurCredentials: true, portInUse: true })).toBe("reuse-running");
  });
  it("restarts on the remembered port when it is free", () => {
    expect(planStart({ answersWithOurCredentials: false, portInUse: false })).toBe("start");
  });
  it("moves to a new port when another program holds the remembered one", () => {
    expect(planStart({ answersWithOurCredentials: false, portInUse: true })).toBe("start-on-new-port");
  });
});

describe("parseEmbeddedState", () => {
  it("accepts a valid pg.json", () => {
    expect(parseEmbeddedState(JSON.stringify(good))).toEqual(good);
  });
  it("returns null for a missing, corrupt or invalid file", () => {
    expect(parseEmbeddedState(null)).toBeNull();
    expect(parseEmbeddedState("{not json")).toBeNull();
    expect(parseEmbeddedState(JSON.stringify({ ...good, port: 80 }))).toBeNull();
    expect(parseEmbeddedState(JSON.stringify({ ...good, password: "short" }))).toBeNull();
    expect(parseEmbeddedState(JSON.stringify({ ...good, database: "x; drop" }))).toBeNull();
  });
});

describe("embeddedUrl", () => {
  it("points at 127.0.0.1 on the remembered port", () => {
    const f = parseDatabaseUrl(embeddedUrl(good));
    expect(f).toMatchObject({ host: "127.0.0.1", port: 45678, user: "postgres", password: good.password, database: "switchyard" });
    expect(parseDatabaseUrl(embeddedUrl(good, "postgres")).database).toBe("postgres");
  });
});

describe("migrationTimestamp", () => {
  it("formats UTC as YYYYMMDDHHMMSS like the Prisma CLI", () => {
    expect(migrationTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe("20260102030405");
  });
});
