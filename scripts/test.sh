#!/usr/bin/env bash
# npm test: the three test tiers in sequence (the machine has 2 cores), then a summary.
#
#   unit         vitest, tests/unit/**            (no I/O)
#   build        next build                       (once; serialised with flock when run by hand)
#   integration  vitest, tests/integration/**     (real Postgres: DATABASE_URL's server if set, else an
#                                                  embedded one; a throwaway database per run)
#   e2e          Playwright, e2e/**               (Debian's /usr/bin/chromium; installed with apt when
#                                                  missing and we are root, otherwise we say how)
#
# Usage: scripts/test.sh [unit] [build] [integration] [e2e]   (default: all, in this order)
# The last line is always "N passed, N failed" (tests over all tiers; a tier that fails without test
# results, e.g. the build or a crash, counts as one failure). Exit status 0 only if everything passed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$(pwd)
BIN="$ROOT/node_modules/.bin"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-test.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

if [ ! -x "$BIN/vitest" ]; then
  echo "node_modules is missing: run npm install (or npm ci) first" >&2
  exit 2
fi

TIERS=("$@")
[ ${#TIERS[@]} -eq 0 ] && TIERS=(unit build integration e2e)
for t in "${TIERS[@]}"; do
  case "$t" in unit | build | integration | e2e) ;; *) echo "unknown tier: $t (unit, build, integration, e2e)" >&2; exit 2 ;; esac
done
want() { local t; for t in "${TIERS[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

declare -A STATUS PASSED FAILED SECS NOTE
ORDER=()
record() { # tier status passed failed seconds [note]
  ORDER+=("$1"); STATUS[$1]=$2; PASSED[$1]=$3; FAILED[$1]=$4; SECS[$1]=$5; NOTE[$1]=${6:-}
}
banner() { printf '\n\033[1m==== %s ====\033[0m\n' "$1"; }

# Counts from a vitest JSON report: prints "passed failed".
vitest_counts() {
  node -e '
    const fs = require("fs");
    try {
      const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
      const suitesFailedWithoutTests = (r.testResults || []).filter(
        (s) => s.status === "failed" && !(s.assertionResults || []).some((a) => a.status === "failed"),
      ).length;
      console.log(`${r.numPassedTests || 0} ${(r.numFailedTests || 0) + suitesFailedWithoutTests}`);
    } catch { console.log("0 0"); }
  ' "$1"
}

# Counts from a Playwright JSON report: prints "passed failed".
playwright_counts() {
  node -e '
    const fs = require("fs");
    try {
      const s = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).stats || {};
      console.log(`${(s.expected || 0) + (s.flaky || 0)} ${s.unexpected || 0}`);
    } catch { console.log("0 0"); }
  ' "$1"
}

run_vitest_tier() { # tier config
  local tier=$1 config=$2 start rc p f
  banner "$tier tests (vitest --config $config)"
  start=$SECONDS
  "$BIN/vitest" run --config "$config" --reporter=default --reporter=json --outputFile.json="$OUT/$tier.json"
  rc=$?
  read -r p f < <(vitest_counts "$OUT/$tier.json")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  # a failed test fails the tier even if the runner's exit status says otherwise
  if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ]; then record "$tier" passed "$p" "$f" $((SECONDS - start))
  else record "$tier" FAILED "$p" "$f" $((SECONDS - start)) "vitest exit $rc"; fi
}

# Debian's Chromium for Playwright (and lab tests). Returns non-zero with instructions if unavailable.
# Debian packages the tests use: chromium (Playwright) and, for the network lab and the linux VIP driver
# tests, iproute2, iputils-arping, nftables, sip-tester (sipp) and kamailio (the real SIP server of the
# Kamailio agent and lab tests); prometheus for promtool (the metrics tests check the exposition and the
# example rules with it). As root, whatever is missing is
# installed with apt-get; otherwise we say how. Without the lab tools the lab suites skip with that reason;
# without chromium the e2e tier fails.
LAB_PACKAGES=(iproute2 iputils-arping nftables sip-tester kamailio prometheus)
missing_packages() {
  local p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done
}
ensure_packages() {
  local want=()
  [ -x /usr/bin/chromium ] || want+=(chromium)
  if command -v dpkg-query >/dev/null; then mapfile -t -O "${#want[@]}" want < <(missing_packages "${LAB_PACKAGES[@]}"); fi
  [ ${#want[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing missing Debian packages with apt-get: ${want[*]}"
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${want[@]}") </dev/null || echo "apt-get could not install ${want[*]}" >&2
  else
    echo "Missing Debian packages: ${want[*]}. Install them as root, then rerun:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${want[*]}" >&2
    echo "(the network-lab suites need root and skip without these tools; the browser tests need chromium)" >&2
  fi
  [ -x /usr/bin/chromium ]
}

# Prisma client (normally generated at postinstall).
if [ ! -f "$ROOT/lib/generated/prisma/client.ts" ]; then
  banner "generating the Prisma client"
  "$BIN/tsx" scripts/prisma-generate.ts || { echo "prisma generate failed" >&2; exit 1; }
fi

CHROMIUM_OK=1
if want integration || want e2e; then
  ensure_packages || CHROMIUM_OK=0
fi

if want unit; then run_vitest_tier unit vitest.unit.config.ts; fi

BUILD_OK=1
if want build; then
  banner "build (next build)"
  start=$SECONDS
  if [ "${CI:-}" != "true" ] && command -v flock >/dev/null; then
    # several people share this working tree and its .next folder: one build at a time
    flock /tmp/switchyard-next.lock "$BIN/next" build
  else
    "$BIN/next" build
  fi
  rc=$?
  if [ "$rc" -eq 0 ]; then record build passed 0 0 $((SECONDS - start))
  else BUILD_OK=0; record build FAILED 0 1 $((SECONDS - start)) "next build exit $rc"; fi
fi

if want integration; then run_vitest_tier integration vitest.integration.config.ts; fi

if want e2e; then
  if [ ! -f playwright.config.ts ]; then
    record e2e skipped 0 0 0 "no playwright.config.ts"
  elif [ "$CHROMIUM_OK" -ne 1 ]; then
    record e2e FAILED 0 1 0 "/usr/bin/chromium missing (see above)"
  elif [ "$BUILD_OK" -ne 1 ]; then
    record e2e FAILED 0 1 0 "not run: the build failed"
  else
    banner "e2e tests (playwright)"
    start=$SECONDS
    PLAYWRIGHT_JSON_OUTPUT_NAME="$OUT/e2e.json" "$BIN/playwright" test --reporter=list,json
    rc=$?
    read -r p f < <(playwright_counts "$OUT/e2e.json")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ]; then record e2e passed "$p" "$f" $((SECONDS - start))
    else record e2e FAILED "$p" "$f" $((SECONDS - start)) "playwright exit $rc"; fi
  fi
fi

TOTAL_P=0
TOTAL_F=0
ANY_FAILED=0
banner "summary"
for t in "${ORDER[@]}"; do
  printf '  %-12s %-8s %5s passed %4s failed %6ss  %s\n' "$t" "${STATUS[$t]}" "${PASSED[$t]}" "${FAILED[$t]}" "${SECS[$t]}" "${NOTE[$t]}"
  TOTAL_P=$((TOTAL_P + PASSED[$t]))
  TOTAL_F=$((TOTAL_F + FAILED[$t]))
  [ "${STATUS[$t]}" = FAILED ] && ANY_FAILED=1
done
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$ANY_FAILED" -eq 0 ] && [ "$TOTAL_F" -eq 0 ]
