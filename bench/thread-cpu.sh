#!/bin/bash
# CPU per message of a Warren broker, split by thread, during one bench/sizes.mjs run.
#   bench/thread-cpu.sh <build dir> <body bytes> <label> <results file>
# Runs one persistent round of bench/sizes.mjs against that build (10 s), reads
# /proc/<broker>/task/*/stat 3 s in and 5 s later, and appends one JSON line: per thread its
# user and system ticks (1 tick = 10 ms) over the window, and the run's consumed msg/s, so that
# ticks ÷ (msg/s × 5 s) is the thread's CPU per message. Threads are told apart by their order:
# the first is the event loop, V8's platform workers (GC helpers) come next, libuv's pool last.
set -euo pipefail
build=$1 size=$2 label=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp)
node "$here/sizes.mjs" --brokers "warren@$build" --sizes "$size" --seconds 10 --rounds 1 --kinds persistent --label "$label" --out "$tmp" > /dev/null 2>&1 &
bench=$!
sleep 4
pid=$(pgrep -n -f "warren-server.mjs --build $build")
snap() { for t in /proc/$pid/task/*; do read -r line < "$t/stat"; set -- ${line#*) }; echo "$(basename "$t") ${12} ${13}"; done | sort -n; }
snap > "$tmp.a"; sleep 5; snap > "$tmp.b"
wait $bench
threads=$(join "$tmp.a" "$tmp.b" | awk '{printf "%s{\"tid\":%s,\"user_ticks\":%d,\"sys_ticks\":%d}", (NR>1?",":""), $1, $4-$2, $5-$3}')
rate=$(grep -o '"msg_per_s":[0-9]*' "$tmp" | cut -d: -f2)
echo "{\"bench\":\"thread-cpu\",\"time\":\"$(date -u +%FT%TZ)\",\"label\":\"$label\",\"build\":\"$build\",\"size\":$size,\"window_s\":5,\"msg_per_s\":$rate,\"main_pid\":$pid,\"threads\":[$threads]}" | tee -a "$out"
rm -f "$tmp" "$tmp.a" "$tmp.b"
