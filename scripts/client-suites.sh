#!/usr/bin/env bash
# Runs the live-broker test suites of two AMQP clients, unchanged, against Warren or
# RabbitMQ: amqplib's (`npm test`, node --test) and pika's acceptance tests (pytest).
# Both suites connect to localhost:5672 and fixed names, so each run happens inside a
# network namespace of its own (unshare -n, root): the broker under test gets the
# namespace's loopback port 5672 and nothing else on the machine is touched.
#
#   scripts/client-suites.sh warren|rabbitmq <amqplib checkout> <pika checkout> [results dir]
#
# The checkouts are the clients' own repositories (docs/compatibility.md names the versions
# used; their test dependencies — amqplib's `claire`, and Debian's python3-pytest,
# python3-mock, python3-twisted, python3-tornado, python3-gevent for pika — must be there).
# Writes <results dir>/<broker>-amqplib.tap and <broker>-pika.txt, appends the counts as JSON
# lines to <results dir>/client-suites.jsonl and prints them.
set -euo pipefail
broker=${1:?warren or rabbitmq}
amqplib=$(realpath "${2:?amqplib checkout}")
pika=$(realpath "${3:?pika checkout}")
out=$(realpath -m "${4:-/tmp/client-suites}")
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/broker-node.sh
. "$repo/scripts/lib/broker-node.sh"
mkdir -p "$out"

if [ "${CLIENT_SUITES_IN_NETNS:-}" != 1 ]; then
  exec env CLIENT_SUITES_IN_NETNS=1 unshare -n "$0" "$@"
fi
ip link set lo up

work=$(mktemp -d /tmp/client-suites-XXXXXX)
stop_broker() { :; }
case "$broker" in
  warren)
    (cd "$repo" && exec node dist/src/cli.js start --amqp.port 5672 --data-dir "$work/data" --log.level warn) >"$work/broker.log" 2>&1 &
    pid=$!
    stop_broker() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    ;;
  rabbitmq)
    start_rabbitmq "$work" '[]'
    stop_broker() { stop_rabbitmq; }
    ;;
  *) echo "unknown broker $broker" >&2; exit 2 ;;
esac
trap 'stop_broker; rm -rf "$work"' EXIT

wait_for_port 5672 "$work/broker.log"

# amqplib: its package.json test script (node --test), with a per-test timeout of 20 s instead
# of its 1 s: on Node 20 that timeout covers a whole test file, and the live-broker files take
# longer than a second on a shared machine, which cancels them against any broker
(cd "$amqplib" && node --test --test-timeout=20000 --test-reporter=tap) >"$out/$broker-amqplib.tap" 2>&1 || true
# pika: the acceptance tests, with pika's own pytest settings (pyproject.toml)
(cd "$pika" && timeout 1800 /usr/bin/python3 -m pytest tests/acceptance -p no:cacheprovider) >"$out/$broker-pika.txt" 2>&1 || true

echo "$broker amqplib: $(grep -E '^# (tests|pass|fail|skipped)' "$out/$broker-amqplib.tap" | tr '\n' ' ')"
echo "$broker pika:    $(tail -n 1 "$out/$broker-pika.txt")"

# one JSON line per suite, for bench/results/client-suites-<date>.jsonl
tap() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$out/$broker-amqplib.tap" | tail -n 1; }
py() { tail -n 1 "$out/$broker-pika.txt" | grep -o "[0-9]* $1" | cut -d' ' -f1 || true; }
n() { echo "${1:-0}"; }
{
  echo "{\"time\":\"$(date -u +%FT%TZ)\",\"broker\":\"$broker\",\"suite\":\"amqplib\",\"tests\":$(n "$(tap tests)"),\"pass\":$(n "$(tap pass)"),\"fail\":$(n "$(tap fail)"),\"cancelled\":$(n "$(tap cancelled)"),\"skipped\":$(n "$(tap skipped)")}"
  echo "{\"time\":\"$(date -u +%FT%TZ)\",\"broker\":\"$broker\",\"suite\":\"pika-acceptance\",\"pass\":$(n "$(py passed)"),\"fail\":$(n "$(py failed)"),\"skipped\":$(n "$(py skipped)")}"
} >>"$out/client-suites.jsonl"
