#!/usr/bin/env bash
# The cost of metrics (issue 6): W2 of the HTTP issue (a proxy to nginx with a Lua http-req action,
# bench/http-lua-action) on HaLua alone, without and with the `metrics` endpoint, alternating
# ROUNDS times. With metrics, a scraper fetches /metrics every SCRAPE seconds during the run (as
# Prometheus would), so the cost measured is the hot path's (the Lua duration histogram; the
# HAProxy metrics are read from the live counters at scrape time) plus the scrapes'.
# wrk -t1 -c50; server on CPU 0, wrk, nginx and the scraper on CPU 1. Goal: cost under 3%.
#   bench/run-metrics.sh                 5 rounds of 10 s after 40 s of warm-up each
#   ROUNDS=5 DURATION=10 bench/run-metrics.sh
# Both servers run side by side for the whole run (each pinned to CPU 0, only one under load at a
# time) and each is warmed for WARMUP seconds first: .NET's tiered JIT with dynamic PGO takes
# 20-25 s of this load on one core to reach its steady state (req/s climbs from about half to
# full; bench/README.md), so rounds taken during the climb measure the JIT, not metrics. Then
# the rounds alternate off/on on the same two warm processes.
# Run it on a quiet machine (uptime's load under 1.5): the rounds' spread otherwise hides a 3% cost.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-40}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-5}
SCRAPE=${SCRAPE:-1}
"$BENCH_ROOT/install.sh"
build_halua

start_nginx_origin "$WORK/metrics-origin"

start_one() { # name metrics(0|1) -> sets PORT_<name>, PID_<name>
  local name=$1 metrics=$2
  local port mport; port=$(free_port); mport=$(free_port)
  local dir="$WORK/metrics-$name"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$BENCH_ROOT/http-lua-action"/*.lua "$dir/"
  sed "s/\${BENCH_PORT}/$port/; s/\${ORIGIN_PORT}/$ORIGIN_PORT/" "$BENCH_ROOT/http-lua-action/haproxy.cfg" > "$dir/haproxy.cfg"
  if [ "$metrics" = 1 ]; then
    sed -i "s|^global$|global\n    metrics 127.0.0.1:$mport|" "$dir/haproxy.cfg"
    METRICS_PORT=$mport
  fi
  (cd "$dir" && exec $PIN_SERVER "$WORK/halua/halua" -db -f haproxy.cfg >"$dir/out.log" 2>&1) &
  local pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$name" "$dir/out.log"
  eval "PORT_$name=$port PID_$name=$pid"
}

measure() { # name round
  local name=$1 round=$2
  local port pid dir="$WORK/metrics-$1"
  eval "port=\$PORT_$name pid=\$PID_$name"
  sample_cpu "$pid" 0.5 "$((DURATION - 1))" "$dir/cpu"
  $PIN_LOAD wrk -t1 -c"$CONNS" -d"$DURATION"s --latency "http://127.0.0.1:$port/" > "$dir/wrk.log"
  sleep 0.2
  python3 "$BENCH_ROOT/wrk_result.py" "$name" "$dir/wrk.log" "$(cat "$dir/cpu" 2>/dev/null || echo 0)"
}

start_one off 0
start_one on 1
wait_port "$METRICS_PORT" "on metrics" "$WORK/metrics-on/out.log"
$PIN_LOAD bash -c "while sleep $SCRAPE; do curl -s -o /dev/null http://127.0.0.1:$METRICS_PORT/metrics; done" &
PIDS+=($!)
echo "warming each server for $WARMUP s..." >&2
$PIN_LOAD wrk -t1 -c"$CONNS" -d"$WARMUP"s "http://127.0.0.1:$PORT_off/" >/dev/null
$PIN_LOAD wrk -t1 -c"$CONNS" -d"$WARMUP"s "http://127.0.0.1:$PORT_on/" >/dev/null

lines=()
for round in $(seq 1 "$ROUNDS"); do
  lines+=("$(measure off "$round")")
  lines+=("$(measure on "$round")")
done

# The histogram saw the traffic (the measurement is not of a disabled instrument).
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" > "$WORK/metrics-on/scrape.txt"; grep -q 'halua_lua_duration_seconds_count{function="set-header",kind="action"}' \
  "$WORK/metrics-on/scrape.txt" || { echo "metrics: no Lua duration histogram in the scrape" >&2; exit 1; }

python3 - "${lines[@]}" <<'PY' | tee -a "$RESULTS/metrics.txt"
import datetime, statistics, sys
# "NAME RESULT rps=... p50_us=... p99_us=... errors=... cpu=..." (wrk_result.py) -> [name, rps, p99, cpu]
rows = []
for line in sys.argv[1:]:
    name, _, *fields = line.split()
    f = dict(x.split("=") for x in fields)
    rows.append([name, f["rps"], f["p99_us"], f["cpu"]])
print(f"# W2 lua-action, HaLua without / with metrics (scraped every second) {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
print(f"{'round':6}{'metrics':9}{'req/s':>10}{'p99 us':>10}{'cpu':>7}{'req/cpu-s':>11}")
ratios, cpu_ratios = [], []
for i in range(0, len(rows), 2):
    off, on = rows[i], rows[i + 1]
    for r in (off, on):
        print(f"{i // 2 + 1:<6}{r[0]:9}{r[1]:>10}{r[2]:>10}{r[3]:>7}{float(r[1]) / max(0.01, float(r[3])):>11.0f}")
    ratios.append(float(on[1]) / float(off[1]))
    cpu_ratios.append((float(on[1]) / max(0.01, float(on[3]))) / (float(off[1]) / max(0.01, float(off[3]))))
print(f"rounds' req/s ratios on/off: {' '.join(f'{r:.3f}' for r in ratios)}")
m, c = statistics.median(ratios), statistics.median(cpu_ratios)
print(f"median on/off: req/s {m:.3f} (cost {100 * (1 - m):.1f}%)   req per CPU-second {c:.3f} (cost {100 * (1 - c):.1f}%)   goal: cost under 3%")
PY
