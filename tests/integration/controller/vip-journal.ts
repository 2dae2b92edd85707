/**
 * The script VIP driver for controller tests: per host, enable/disable/status scripts that keep the
 * VIP's state in a file and append every change to one journal shared by both hosts (so a test can
 * replay the order of the VIP moves and prove the VIP was never enabled on both hosts), with a switch
 * that makes the next `enable` on a host fail (a VIP control script that fails, as in the field).
 */
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../agent/helpers";

export interface VipJournal {
  dir: string;
  /** The `vips[0]` entry of one host's agent configuration. */
  vipConfig(host: string, address: string): Record<string, unknown>;
  /** The next `enable` on this host exits 1 (once). */
  failNextEnable(host: string): void;
  /** Every change in order: [host, "enabled" | "disabled"]. */
  entries(): [string, "enabled" | "disabled"][];
  /** The largest number of hosts holding the VIP at the same time, replaying the journal. */
  maxHolders(): number;
}

export function vipJournal(): VipJournal {
  const dir = tempDir("vip-journal-");
  const journal = path.join(dir, "journal");
  writeFileSync(journal, "");
  const script = (host: string) => {
    const file = path.join(dir, `vip-${host}.sh`);
    const state = path.join(dir, `state-${host}`);
    const fail = path.join(dir, `fail-enable-${host}`);
    writeFileSync(
      file,
      `#!/bin/sh
# $1 = enable | disable | status (also in SWITCHYARD_ACTION)
case "$1" in
  enable)
    if [ -e "${fail}" ]; then rm -f "${fail}"; echo "injected failure: cannot add $SWITCHYARD_VIP" >&2; exit 1; fi
    echo enabled > "${state}"; echo "${host} enabled" >> "${journal}" ;;
  disable)
    if [ "$(cat "${state}" 2>/dev/null)" = enabled ]; then echo disabled > "${state}"; echo "${host} disabled" >> "${journal}"; fi ;;
  status)
    [ "$(cat "${state}" 2>/dev/null)" = enabled ] && exit 0 || exit 1 ;;
esac
`,
    );
    chmodSync(file, 0o755);
    return { file, fail };
  };
  const made = new Map<string, ReturnType<typeof script>>();
  const get = (host: string) => made.get(host) ?? made.set(host, script(host)).get(host)!;
  return {
    dir,
    vipConfig(host, address) {
      const s = get(host);
      return { name: "vip", address, prefix: 24, interface: "lo", driver: "script", observeIntervalMs: 500, scripts: { enable: s.file, disable: s.file, status: s.file, timeoutMs: 5000 } };
    },
    failNextEnable(host) {
      appendFileSync(get(host).fail, "1");
    },
    entries() {
      return readFileSync(journal, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ") as [string, "enabled" | "disabled"]);
    },
    maxHolders() {
      const on = new Set<string>();
      let max = 0;
      for (const [host, st] of this.entries()) {
        if (st === "enabled") on.add(host);
        else on.delete(host);
        max = Math.max(max, on.size);
      }
      return max;
    },
  };
}

