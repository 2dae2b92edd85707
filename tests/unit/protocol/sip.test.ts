import { describe, expect, test } from "vitest";
import { buildOptions, buildResponse, header, parseSip } from "../../../protocol/sip";

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

  test("an OPTIONS request parses back, and a response to it carries its Call-ID and branch", () => {
    const o = buildOptions({ target: { host: "198.18.0.100", port: 5060 }, local: { host: "198.18.0.5", port: 40000 }, cseq: 7 });
    expect(o.branch).toMatch(/^z9hG4bK\w{16}$/);
    const m = parseSip(o.text)!;
    expect(m).toMatchObject({ method: "OPTIONS", uri: "sip:probe@198.18.0.100:5060" });
    expect(header(m, "via")).toBe(`SIP/2.0/UDP 198.18.0.5:40000;branch=${o.branch};rport`);
    expect(header(m, "call-id")).toBe(o.callId);
    expect(header(m, "cseq")).toBe("7 OPTIONS");
    expect(o.text.endsWith("Content-Length: 0\r\n\r\n")).toBe(true);
    const r = parseSip(buildResponse(m, 200, "OK", [], { address: "198.18.0.5", port: 40000 }))!;
    expect(r.status).toBe(200);
    expect(header(r, "call-id")).toBe(o.callId);
    expect(header(r, "via")).toContain(`branch=${o.branch};rport=40000`);
  });

  test("IPv6 hosts are bracketed in the request", () => {
    const o = buildOptions({ target: { host: "2001:db8:5::100", port: 5060 }, local: { host: "2001:db8:5::5", port: 5070 }, user: "u" });
    const m = parseSip(o.text)!;
    expect(m.uri).toBe("sip:u@[2001:db8:5::100]:5060");
    expect(header(m, "via")).toMatch(/^SIP\/2\.0\/UDP \[2001:db8:5::5\]:5070;/);
  });

  test("a status line without a reason phrase is still a response", () => {
    expect(parseSip("SIP/2.0 503\r\nCall-ID: x\r\n\r\n")).toMatchObject({ status: 503, reason: "" });
  });
});
