// npm run docs:config: rewrites the table of environment variables in docs/configuration.md from
// lib/config.ts's VARIABLES (the unit test tests/unit/config.test.ts checks the two are the same).
import { readFileSync, writeFileSync } from "node:fs";
import { variablesTable } from "../lib/config";

const file = new URL("../docs/configuration.md", import.meta.url);
const doc = readFileSync(file, "utf8");
const table = /^\| variable \| default \| meaning \|\n(?:\|.*\|\n)+/m;
if (!table.test(doc)) throw new Error("docs/configuration.md: no table starting with | variable | default | meaning |");
writeFileSync(file, doc.replace(table, variablesTable() + "\n"));
console.log("docs/configuration.md: table of variables written from lib/config.ts");
