import { describe, expect, test } from "vitest";
import { buildResponse, header, parseSip } from "../../../sim/sip";
import { parseArgs } from "../../../sim/main.parse";

const req =
  [
    "OPTIONS sip:probe@198.18.0.210:5060 SIP/2.0",
    "Via: SIP/2.0/UDP 198.18.0.5:5070;branch=z9hG4bK776asdhds;rport",
    "v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc",
    "Max-Forwards: 70",
    "From: <sip:switchyard@198.18.0.5>;tag=1928301774",
    "To: <sip:probe@198.18.0.210>",
    "i: a84b4c76e66710@pc33",
    "CSeq: 63104 OPTIONS",
    "Content-Length: 0",
  ].join("\r\n") + "\r\n\r\n";

describe("SIP text", () => {
  test("parses a request with compact headers and several Vias", () => {
    const m = parseSip(req)!;
    expect(m.method).toBe("OPTIONS");
    expect(m.headers.get("via")).toHaveLength(2);
    expect(header(m, "call-id")).toBe("a84b4c76e66710@pc33");
  });

  test("a response echoes Via, From, Call-ID and CSeq, adds a To tag, fills rport and received", () => {
    const m = parseSip(req)!;
    const text = buildResponse(m, 503, "Service Unavailable", [["X-Switchyard-Role", "backup"]], { address: "198.18.0.9", port: 40000 }, "tt");
    const r = parseSip(text)!;
    expect(r.status).toBe(503);
    expect(r.headers.get("via")![0]).toBe("SIP/2.0/UDP 198.18.0.5:5070;branch=z9hG4bK776asdhds;rport=40000;received=198.18.0.9");
    expect(r.headers.get("via")![1]).toBe("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc");
    expect(header(r, "to")).toBe("<sip:probe@198.18.0.210>;tag=tt");
    expect(header(r, "from")).toBe("<sip:switchyard@198.18.0.5>;tag=1928301774");
    expect(header(r, "cseq")).toBe("63104 OPTIONS");
    expect(header(r, "x-switchyard-role")).toBe("backup");
    expect(text.endsWith("Content-Length: 0\r\n\r\n")).toBe(true);
  });

  test("garbage is not a SIP message", () => {
    expect(parseSip("hello")).toBeNull();
    expect(parseSip("SIP/2.0 abc OK\r\n\r\n")).toBeNull();
  });

  test("sim arguments", () => {
    const o = parseArgs(["--host-name", "h2", "--listen", "198.18.0.202:5060", "--listen", "198.18.0.210:5060", "--control", "127.0.0.1:8080", "--mode", "primary"]);
    expect(o).toMatchObject({ hostName: "h2", mode: "primary", control: { address: "127.0.0.1", port: 8080 } });
    expect(o.listen).toHaveLength(2);
    expect(() => parseArgs(["--mode", "leader"])).toThrow(/--mode/);
    expect(() => parseArgs(["--listen", "nope"])).toThrow(/ADDR:PORT/);
  });
});
