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

ORIGIN_PORT=$(free_port)
ORIGIN_DIR="$WORK/http-origin"
rm -rf "$ORIGIN_DIR"; mkdir -p "$ORIGIN_DIR"
sed "s|\${ORIGIN_PORT}|$ORIGIN_PORT|; s|\${WORK}|$ORIGIN_DIR|g" "$BENCH_ROOT/http-proxy/nginx.conf" > "$ORIGIN_DIR/nginx.conf"
$PIN_LOAD nginx -c "$ORIGIN_DIR/nginx.conf" -e "$ORIGIN_DIR/nginx-error.log" &
PIDS+=($!)
wait_port "$ORIGIN_PORT" nginx "$ORIGIN_DIR/nginx-error.log"

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
  python3 - "$name" "$dir/wrk.log" "$(cat "$dir/cpu" 2>/dev/null || echo 0)" <<'PY'
import re, sys
name, log, cpu = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
def us(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 1, "ms": 1000, "s": 1000000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", log).group(1))
p50 = us(re.search(r"^\s+50%\s+(\S+)", log, re.M).group(1))
p99 = us(re.search(r"^\s+99%\s+(\S+)", log, re.M).group(1))
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", log))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", log)
errs += int(non2xx.group(1)) if non2xx else 0
print(f"{name} RESULT rps={rps:.0f} p50_us={p50:.0f} p99_us={p99:.0f} errors={errs} cpu={cpu}")
PY
}

lines=()
for round in $(seq 1 "$ROUNDS"); do
  lines+=("$(run_one haproxy haproxy -db)")
  lines+=("$(run_one halua "$WORK/halua/halua" -db)")
done

suffix=""
[ "$WORKERS" != 1 ] && suffix="-$WORKERS-workers"
python3 "$BENCH_ROOT/summarize.py" "$TITLE: wrk -t1 -c$CONNS, $WORKERS worker(s) vs nbthread $WORKERS" req rps "${lines[@]}" | tee -a "$RESULTS/http-$WORKLOAD$suffix.txt"
