import { describe, expect, test } from "vitest";
import { ConfigError, parseConfigText } from "../../../agent/config";

const TOKEN = "unit-token-0123456789";

describe("agent config", () => {
  test("defaults: port 4999, 5 gratuitous ARPs 200 ms apart, heartbeat 9 s, on-failure restarts", () => {
    const c = parseConfigText(
      `tokens: [${TOKEN}]\nvips: [{name: v, address: 198.18.0.230, driver: linux}]\napps: [{name: sip, command: /bin/true, vip: v}]\n`,
      "agent.yaml",
    );
    expect(c.listen).toEqual({ host: "0.0.0.0", port: 4999 });
    expect(c.vips[0].garp).toEqual({ count: 5, intervalMs: 200, mode: "request", refreshMs: 0 });
    expect(c.vips[0]).toMatchObject({ prefix: 24, interface: "eth0", observeIntervalMs: 2000 });
    expect(c.heartbeat.timeoutMs).toBe(9000);
    expect(c.apps[0].restart.policy).toBe("on-failure");
    expect(c.apps[0].autostart).toBe(false);
  });

  test("JSON works the same", () => {
    const c = parseConfigText(JSON.stringify({ tokens: [TOKEN], listen: { port: 5000 } }), "agent.json");
    expect(c.listen.port).toBe(5000);
  });

  test("errors name the file and the field path", () => {
    const bad = (text: string, file = "agent.yaml") => {
      try {
        parseConfigText(text, file);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(bad(`apps: [{name: sip, command: x, stopTimeoutMs: soon}]`)).toMatch(/^agent\.yaml: apps\[0\]\.stopTimeoutMs: .*expected number/m);
    expect(bad(`vips: [{name: v, address: 300.1.1.1, driver: linux}]`)).toMatch(/agent\.yaml: vips\[0\]\.address: expected an IPv4 address/);
    expect(bad(`vips: [{name: v, address: 198.18.0.230, driver: script}]`)).toMatch(/vips\[0\]\.scripts: required when driver is script/);
    expect(bad(`apps: [{name: a, command: x, vip: nope}]`)).toMatch(/apps\[0\]\.vip: no VIP named nope/);
    expect(bad(`apps: [{name: a, command: x, modeHook: {type: shell, cmd: "rm -rf /"}}]`)).toMatch(/apps\[0\]\.modeHook/);
    expect(bad(`listen: {port: 4999, hots: x}`)).toMatch(/listen: .*hots/);
    expect(bad(`vips: [{name: v, address: 198.18.0.230, driver: linux, garp: {mode: unicast}}]`)).toMatch(/vips\[0\]\.garp\.mode/);
    expect(bad(`vips: [{name: v, address: 198.18.0.230, driver: linux, garp: {refreshMs: 10}}]`)).toMatch(/vips\[0\]\.garp\.refreshMs: 0 \(off\) or at least 1000/);
    expect(bad(`tokens: [short]`)).toMatch(/tokens\[0\]: at least 16 characters/);
    expect(bad(`{"listen": `, "a.json")).toMatch(/^a\.json: not valid JSON/);
    expect(bad(`apps: [{name: a, command: x}, {name: a, command: y}]`)).toMatch(/apps\[1\]\.name: duplicate app name a/);
  });
});

describe("jsonrpc mode hook", () => {
  const hook = (h: string) => parseConfigText(`apps: [{name: kam, command: kamailio, modeHook: ${h}}]`, "agent.yaml").apps[0].modeHook;
  const bad = (h: string) => {
    try {
      hook(h);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error("accepted");
  };
  test("defaults and a full hook", () => {
    expect(hook(`{type: jsonrpc, url: "http://127.0.0.1:5071/RPC", setMethod: pv.shvSet, setParams: [mode, str, "{mode}"], getMethod: pv.shvGet, getParams: [mode]}`)).toEqual({
      type: "jsonrpc",
      url: "http://127.0.0.1:5071/RPC",
      setMethod: "pv.shvSet",
      setParams: ["mode", "str", "{mode}"],
      getMethod: "pv.shvGet",
      getParams: ["mode"],
      headers: {},
      timeoutMs: 2000,
    });
  });
  test("clear errors", () => {
    expect(hook(`{type: jsonrpc, url: "http://127.0.0.1:8888/mi", setMethod: shv_set, setParams: {name: mode, type: str, value: "{mode}"}}`)).toMatchObject({ setParams: { name: "mode", type: "str", value: "{mode}" }, getParams: [] });
    expect(bad(`{type: jsonrpc, url: "http://127.0.0.1:8888/mi", setMethod: shv_set, setParams: {name: mode, value: primary}}`)).toMatch(/setParams: must contain "\{mode\}"/);
    expect(bad(`{type: jsonrpc, url: "http://127.0.0.1:5071/RPC", setMethod: pv.shvSet, setParams: [mode, str, primary]}`)).toMatch(/apps\[0\]\.modeHook\.setParams: must contain "\{mode\}"/);
    expect(bad(`{type: jsonrpc, url: "http://127.0.0.1:5071/RPC", setMethod: "pv shvSet; rm", setParams: ["{mode}"]}`)).toMatch(/apps\[0\]\.modeHook\.setMethod: a JSON-RPC method name/);
    expect(bad(`{type: jsonrpc, url: "ftp://x/RPC", setMethod: m, setParams: ["{mode}"]}`)).toMatch(/apps\[0\]\.modeHook\.url/);
    expect(bad(`{type: jsonrpc, url: "http://x/RPC", setParams: ["{mode}"]}`)).toMatch(/apps\[0\]\.modeHook\.setMethod/);
    expect(bad(`{type: jsonrpc, url: "http://x/RPC", setMethod: m, setParams: ["{mode}"], headers: {"X-A": "a\\r\\nInjected: 1"}}`)).toMatch(/modeHook\.headers\.X-A: no line breaks/);
    expect(bad(`{type: jsonrpc, url: "http://x/RPC", setMethod: m, setParams: ["{mode}"], body: "x"}`)).toMatch(/modeHook: .*body/);
  });
});
