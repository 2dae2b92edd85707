import { describe, expect, test } from "vitest";
import { modeFromRpcResult, rpcBody } from "../../../agent/hooks";

describe("jsonrpc hook helpers", () => {
  test("the body: JSON-RPC 2.0, {mode} replaced in strings only", () => {
    const b = JSON.parse(rpcBody("pv.shvSet", ["mode", "str", "{mode}", 1, null, "x-{mode}-y"], "primary"));
    expect(b).toMatchObject({ jsonrpc: "2.0", method: "pv.shvSet", params: ["mode", "str", "primary", 1, null, "x-primary-y"] });
    expect(typeof b.id).toBe("number");
    expect(JSON.parse(rpcBody("pv.shvGet", ["{mode}"], null)).params).toEqual(["{mode}"]);
    expect(JSON.parse(rpcBody("shv_set", { name: "mode", type: "str", value: "{mode}" }, "backup")).params).toEqual({ name: "mode", type: "str", value: "backup" });
  });
  test("the mode a result names: Kamailio's pv.shvGet, plain strings, nothing, both", () => {
    expect(modeFromRpcResult({ name: "mode", type: "string", value: "primary" })).toBe("primary");
    expect(modeFromRpcResult([{ value: { value: "backup" } }])).toBe("backup");
    expect(modeFromRpcResult("Ok. Variable set to new value.")).toBeNull();
    expect(modeFromRpcResult(["primary", "backup"])).toBeNull();
    expect(modeFromRpcResult(null)).toBeNull();
  });
});
