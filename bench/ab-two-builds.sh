#!/bin/bash
# A/B of two compiled Warren builds side by side (AMQP only), through bench/run.mjs:
#   bench/ab-two-builds.sh <label-a> <build-dir-a> <label-b> <build-dir-b> <out.jsonl> [run.mjs options…]
# A build dir is a tsc output (`tsc -p tsconfig.json --outDir <dir>` in a checkout of the
# commit, node_modules linked); ratios are b ÷ a. Each server runs in its own process with a
# temporary data directory; both are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
LA=$1 DA=$2 LB=$3 DB=$4 OUT=$5
shift 5
OA=$(mktemp) OB=$(mktemp)
node --expose-gc bench/warren-server.mjs --build "$DA" --protocols amqp > "$OA" 2>&1 & A=$!
node --expose-gc bench/warren-server.mjs --build "$DB" --protocols amqp > "$OB" 2>&1 & B=$!
trap 'kill $A $B 2>/dev/null; rm -f "$OA" "$OB"' EXIT
for _ in $(seq 1 100); do grep -q ready "$OA" && grep -q ready "$OB" && break; sleep 0.2; done
port() { sed -n 's/^ready .*"amqp":\([0-9]*\).*/\1/p' "$1"; }
node bench/run.mjs --url "$LA=amqp://guest:guest@127.0.0.1:$(port "$OA")" --url "$LB=amqp://guest:guest@127.0.0.1:$(port "$OB")" \
  --pid "$LA=$A" --pid "$LB=$B" --baseline "$LA" --out "$OUT" "$@"
