#!/usr/bin/env bash
# Runs stomp.py's own live-broker tests, unchanged, against Warren or RabbitMQ (its `default`
# and `rabbitmq` settings of tests/setup.ini, both pointed at the broker under test through the
# environment variables the tests read). Some tests dial localhost:61613 whatever the settings
# say, so each run happens inside a network namespace of its own (unshare -n, root), where the
# broker under test gets port 61613 and nothing else on the machine is touched.
#
#   scripts/stomppy-suite.sh warren|warren-strict|rabbitmq <stomp.py checkout> [pytest args …]
#
# warren-strict runs Warren with stomp.host_must_name_vhost = true (RabbitMQ's handling of the
# host header). The checkout is stomp.py's repository at the tag of the Debian package
# (v8.0.0); it needs Debian's python3-stomp, python3-pytest, python3-pytest-mock and
# python3-pytest-timeout (a test whose CONNECT is refused may wait for ever: 60 s each). Run
# `npm run build` first. docs/compatibility.md records the results.
set -euo pipefail
broker=${1:?warren, warren-strict or rabbitmq}
checkout=$(realpath "${2:?stomp.py checkout}")
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/broker-node.sh
. "$repo/scripts/lib/broker-node.sh"

if [ "${STOMPPY_IN_NETNS:-}" != 1 ]; then
  exec env STOMPPY_IN_NETNS=1 unshare -n "$0" "$broker" "$checkout" "$@"
fi
ip link set lo up multicast on
# stomp.py's multicast adapter tests join a group: give them a route on the loopback
ip route add 224.0.0.0/4 dev lo 2>/dev/null || true

work=$(mktemp -d /tmp/stomppy-suite-XXXXXX)
stop_broker() { :; }
case "$broker" in
  warren | warren-strict)
    strict=false
    [ "$broker" = warren-strict ] && strict=true
    (cd "$repo" && exec node dist/src/cli.js start --data-dir "$work/data" --log.level warn --stomp.port 61613 \
      --stomp.host_must_name_vhost "$strict" --management.port 15672) >"$work/broker.log" 2>&1 &
    pid=$!
    stop_broker() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    add_user() { node "$repo/dist/src/cli.js" ctl -q --port 15672 "$@"; }
    ;;
  rabbitmq)
    start_rabbitmq "$work" '[rabbitmq_stomp]'
    stop_broker() { stop_rabbitmq; }
    add_user() { rabbitmqctl -q -n "$rabbit_node" "$@" >/dev/null; }
    ;;
  *) echo "unknown broker $broker" >&2; exit 2 ;;
esac
trap 'stop_broker; rm -rf "$work"' EXIT

wait_for_port 61613 "$work/broker.log"
[ "$broker" = rabbitmq ] || for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/15672) 2>/dev/null && break; sleep 0.2; done
# the user of stomp.py's `default` setting (written for ActiveMQ)
add_user add_user admin password
add_user set_permissions -p / admin '.*' '.*' '.*'

export STD_HOST=127.0.0.1 STD_PORT=61613 STD_USER=admin STD_PASSWORD=password
export RABBITMQ_HOST=127.0.0.1 RABBITMQ_PORT=61613 RABBITMQ_USER=guest RABBITMQ_PASSWORD=guest
cd "$checkout"
# the live-broker tests of the default and rabbitmq settings, and the broker-less unit tests;
# not: Artemis and stompserver (other brokers), the TLS suites (brokers set up with stomp.py's
# own certificates), test_ipv6 (finds its broker through docker) and test_ss (stomp.py's own
# stub server, no broker).
log=$work/pytest.txt
timeout 1800 /usr/bin/python3 -m pytest -p no:cacheprovider -q -ra --timeout 60 "$@" \
  tests/test_basic.py tests/test_s10.py tests/test_s11.py tests/test_s12.py tests/test_nonascii.py \
  tests/test_threading.py tests/test_override_threading.py tests/test_context.py tests/test_transport.py \
  tests/test_utils.py tests/test_cli.py tests/test_misc.py tests/test_rabbitmq.py tests/test_activemq.py \
  tests/test_multicast.py | tee "$log" || true

# the counts, one JSON line per run, in bench/results (docs/compatibility.md quotes them)
summary=$(tail -n 1 "$log")
count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' || echo 0; }
printf '{"time":"%s","broker":"%s","suite":"stomp.py-8.0.0","pass":%s,"fail":%s,"error":%s}\n' \
  "$(date -u +%FT%TZ)" "$broker" "$(count passed)" "$(count failed)" "$(count error)" >>"$repo/bench/results/stomppy-suite-$(date -u +%F).jsonl"
