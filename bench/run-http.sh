#!/usr/bin/env bash
# HTTP benchmarks of the HTTP issue, the same config on HAProxy (nbthread N) and HaLua (N workers),
# wrk -t1 -c50 for DURATION seconds, alternating ROUNDS times:
#   bench/run-http.sh service      W1: the spec's Lua HTTP hello-world service
#   bench/run-http.sh lua-action   W2: proxy to nginx with a Lua http-req action (txn.http:req_set_header)
#   bench/run-http.sh proxy        W3: a plain HTTP proxy (no Lua) in front of nginx
#   bench/run-http.sh lua-fetch    W5: a Lua fetch and a Lua converter in set-header, then a Lua service
#   bench/run-http.sh proxy-log    W3L: W3 with option httplog to a UDP syslog target (the cost of access logs)
# WORKERS=2 runs both with 2 threads (nbthread 2, lua-load-per-thread), the server free to use both
# cores, wrk and nginx on CPU 1 (PIN_LOAD_2W=" " unpins them too). Prints req/s, p50/p99 latency, server CPU and the median
# ratio HaLua/HAProxy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-20}
# The warm-up is WARMUP_RUNS wrk runs (each opens and closes its CONNS connections): with a single
# run, the measured run's new connections were the first to reach the connect/close paths often
# enough for the JIT to optimize them, and that compilation (on the server's own core) showed in
# HaLua's p99. HAProxy is warmed the same way.
WARMUP_RUNS=${WARMUP_RUNS:-4}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-1}
WORKLOAD=${1:-proxy}
case "$WORKLOAD" in
  proxy) TITLE="W3 plain HTTP proxy to nginx" ;;
  service) TITLE="W1 Lua HTTP hello-world service" ;;
  lua-action) TITLE="W2 proxy to nginx with a Lua http-req action setting a header" ;;
  lua-fetch) TITLE="W5 Lua fetch + Lua converter in set-header, then a Lua service" ;;
  proxy-log) TITLE="W3L plain HTTP proxy to nginx, option httplog to UDP syslog" ;;
  *) echo "usage: $0 proxy|service|lua-action|lua-fetch|proxy-log" >&2; exit 2 ;;
esac
if [ "$WORKERS" != 1 ]; then
  # The server may use both cores; wrk and nginx stay on CPU 1 (PIN_LOAD=" " unpins them too).
  PIN_SERVER=""
  PIN_LOAD=${PIN_LOAD_2W:-$PIN_LOAD}
fi
"$BENCH_ROOT/install.sh"
build_halua

start_nginx_origin "$WORK/http-origin"

# The syslog target of proxy-log: a bound UDP socket nobody reads (datagrams beyond its buffer are dropped).
LOG_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1]))); time.sleep(86400)' "$LOG_PORT" &
PIDS+=($!)

run_one() { # name command...
  local name=$1; shift
  local port; port=$(free_port)
  local dir="$WORK/http-$WORKLOAD-$name"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$BENCH_ROOT/http-$WORKLOAD"/*.lua "$dir/" 2>/dev/null || true
  local perthread=""
  [ "$WORKERS" != 1 ] && perthread="-per-thread"
  sed "s/\${BENCH_PORT}/$port/; s/\${ORIGIN_PORT}/$ORIGIN_PORT/; s/\${LOG_PORT}/$LOG_PORT/; s/nbthread 1/nbthread $WORKERS/; s/lua-load /lua-load$perthread /" \
    "$BENCH_ROOT/http-$WORKLOAD/haproxy.cfg" > "$dir/haproxy.cfg"
  (cd "$dir" && exec $PIN_SERVER "$@" -f haproxy.cfg >"$dir/out.log" 2>&1) &
  PIDS+=($!)
  local pid=$!
  wait_port "$port" "$name" "$dir/out.log"
  for _ in $(seq 1 "$WARMUP_RUNS"); do
    $PIN_LOAD wrk -t1 -c"$CONNS" -d"$((WARMUP / WARMUP_RUNS))"s "http://127.0.0.1:$port/" >/dev/null
  done
  # CPU over the middle of the run (the sampler must finish before the server is stopped).
  sample_cpu "$pid" 0.5 "$((DURATION - 1))" "$dir/cpu"
  $PIN_LOAD wrk -t1 -c"$CONNS" -d"$DURATION"s --latency "http://127.0.0.1:$port/" > "$dir/wrk.log"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 0.2
  python3 "$BENCH_ROOT/wrk_result.py" "$name" "$dir/wrk.log" "$(cat "$dir/cpu" 2>/dev/null || echo 0)"
}

lines=()
for round in $(seq 1 "$ROUNDS"); do
  lines+=("$(run_one haproxy haproxy -db)")
  lines+=("$(run_one halua "$WORK/halua/halua" -db)")
done

suffix=""
[ "$WORKERS" != 1 ] && suffix="-$WORKERS-workers"
python3 "$BENCH_ROOT/summarize.py" "$TITLE: wrk -t1 -c$CONNS, $WORKERS worker(s) vs nbthread $WORKERS" req rps "${lines[@]}" | tee -a "$RESULTS/http-$WORKLOAD$suffix.txt"
