/** Command-line parsing for the sim (no side effects; unit-tested). */
import os from "node:os";

export type Mode = "primary" | "backup";

export interface Opts {
  hostName: string;
  listen: { address: string; port: number }[];
  control?: { address: string; port: number };
  mode: Mode;
}

function parseAddr(s: string, flag: string) {
  const m = s.match(/^\[?([^\]]+?)\]?:(\d+)$/);
  if (!m) throw new Error(`${flag}: expected ADDR:PORT, got ${s}`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`${flag}: port out of range: ${s}`);
  return { address: m[1], port };
}

export function parseArgs(argv: string[]): Opts {
  const o: Opts = { hostName: os.hostname(), listen: [], mode: "backup" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a}: missing value`);
      return x;
    };
    if (a === "--host-name") o.hostName = v();
    else if (a === "--listen") o.listen.push(parseAddr(v(), a));
    else if (a === "--control") o.control = parseAddr(v(), a);
    else if (a === "--mode") {
      const m = v();
      if (m !== "primary" && m !== "backup") throw new Error(`--mode: expected primary or backup, got ${m}`);
      o.mode = m;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.listen.length === 0) o.listen.push({ address: "127.0.0.1", port: 5060 });
  return o;
}

