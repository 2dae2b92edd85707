import { expect, test } from "vitest";
import { parseArgs } from "../../../sim/main.parse";

test("sim arguments", () => {
  const o = parseArgs(["--host-name", "h2", "--listen", "198.18.0.202:5060", "--listen", "198.18.0.210:5060", "--control", "127.0.0.1:8080", "--mode", "primary"]);
  expect(o).toMatchObject({ hostName: "h2", mode: "primary", control: { address: "127.0.0.1", port: 8080 } });
  expect(o.listen).toHaveLength(2);
  expect(() => parseArgs(["--mode", "leader"])).toThrow(/--mode/);
  expect(() => parseArgs(["--listen", "nope"])).toThrow(/ADDR:PORT/);
});
