import { describe, expect, it } from "vitest";
import { SystemdNotifier } from "../../../agent/systemd";

describe("systemd watchdog interval", () => {
  it("is half of WATCHDOG_USEC, for this process only", () => {
    expect(SystemdNotifier.watchdogMs({ WATCHDOG_USEC: "10000000" }, 42)).toBe(5000);
    expect(SystemdNotifier.watchdogMs({ WATCHDOG_USEC: "10000000", WATCHDOG_PID: "42" }, 42)).toBe(5000);
    expect(SystemdNotifier.watchdogMs({ WATCHDOG_USEC: "10000000", WATCHDOG_PID: "7" }, 42)).toBeNull(); // meant for another process
    expect(SystemdNotifier.watchdogMs({}, 42)).toBeNull();
    expect(SystemdNotifier.watchdogMs({ WATCHDOG_USEC: "nonsense" }, 42)).toBeNull();
    expect(SystemdNotifier.watchdogMs({ WATCHDOG_USEC: "20000" }, 42)).toBe(50); // never tighter than 50 ms
  });
});
