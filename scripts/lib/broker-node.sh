# Sourced by the client-suite scripts (client-suites.sh, stomppy-suite.sh), which run inside a
# network namespace of their own: a RabbitMQ node of their own in a work directory, and the
# wait for the broker under test to listen.

# start_rabbitmq <work dir> <enabled plugins, as an Erlang list>: a node named after the
# calling script and its pid, on port 5672, its mnesia, logs and plugins file under <work dir>.
# Sets rabbit_node, defines stop_rabbitmq.
start_rabbitmq() {
  local work=$1 plugins=$2
  rabbit_node=$(basename "$0" .sh)$$@localhost
  mkdir -p "$work/mnesia" "$work/log"
  echo "$plugins." >"$work/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$work"
  export RABBITMQ_NODENAME=$rabbit_node RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25679 \
    RABBITMQ_MNESIA_BASE=$work/mnesia RABBITMQ_LOG_BASE=$work/log \
    RABBITMQ_ENABLED_PLUGINS_FILE=$work/enabled_plugins RABBITMQ_PID_FILE=$work/pid
  rabbitmq-server >"$work/broker.log" 2>&1 &
}

# the node, then the epmd it started in this namespace (it would outlive the namespace)
stop_rabbitmq() {
  rabbitmqctl -n "$rabbit_node" stop >/dev/null 2>&1 || true
  epmd -kill >/dev/null 2>&1 || true
}

# wait_for_port <port> <broker log>: up to two minutes; on failure prints the log and exits 1
wait_for_port() {
  local port=$1 log=$2
  for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 1
  done
  echo "broker did not listen on $port"
  cat "$log"
  exit 1
}
