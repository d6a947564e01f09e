#!/usr/bin/env bash
# Foundation benchmark: a Lua TCP echo service (applet:getline + applet:send), the same config and
# Lua file on HAProxy (nbthread 1) and on HaLua (1 worker), one after the other in one run:
# 50 connections ping-ponging 16-byte lines. Prints round trips/s, p50/p99 and HaLua/HAProxy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
"$BENCH_ROOT/install.sh"
build_halua
build_tool "$BENCH_ROOT/tools/TcpPing" tcpping

run_one() { # name command...
  local name=$1; shift
  local port; port=$(free_port)
  local dir="$WORK/tcp-echo-$name"
  rm -rf "$dir"; mkdir -p "$dir"
  sed "s/\${BENCH_PORT}/$port/" "$BENCH_ROOT/tcp-echo/haproxy.cfg" > "$dir/haproxy.cfg"
  cp "$BENCH_ROOT/tcp-echo/echo.lua" "$dir/"
  (cd "$dir" && DOTNET_gcServer=0 DOTNET_TieredPGO=1 exec $PIN_SERVER "$@" -f haproxy.cfg >"$dir/out.log" 2>&1) &
  PIDS+=($!)
  local pid=$!
  wait_port "$port" "$name" "$dir/out.log"
  local result
  sample_cpu "$pid" "$WARMUP" "$DURATION" "$dir/cpu"
  result=$($PIN_LOAD "$WORK/tcpping/TcpPing" --port "$port" --connections "$CONNS" --size 16 --duration "$DURATION" --warmup "$WARMUP" | tee "$dir/tcpping.log" | grep '^RESULT')
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 0.2
  echo "$name $result cpu=$(cat "$dir/cpu" 2>/dev/null || echo 0)"
}

# Rounds alternate the two servers so that drift of the machine (other tenants, frequency) hits
# both alike; the ratio reported is the median of the rounds' ratios.
lines=()
for round in $(seq 1 "$ROUNDS"); do
  lines+=("$(run_one haproxy haproxy -db)")
  lines+=("$(run_one halua "$WORK/halua/halua" -db)")
done

python3 - "$CONNS" "${lines[@]}" <<'PY' | tee -a "$RESULTS/tcp-echo.txt"
import sys, datetime, statistics
def parse(line):
    name, _, *kv = line.split()
    return name, dict(x.split("=") for x in kv)
conns = sys.argv[1]
rows = [parse(a) for a in sys.argv[2:]]
def per_cpu(r):
    c = float(r['cpu'])
    return float(r['rtps']) / c if c > 0 else 0.0
print(f"# tcp-echo {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: Lua TCP echo, {conns} conns x 16-byte lines, 1 worker vs nbthread 1")
print(f"{'round':6}{'':10}{'rt/s':>10}{'p50 us':>10}{'p99 us':>10}{'errors':>8}{'cpu':>7}{'rt/cpu-s':>10}")
ratios, cpu_ratios, p99s = [], [], []
for i in range(0, len(rows), 2):
    (hn, h), (ln, l) = rows[i], rows[i + 1]
    for name, r in ((hn, h), (ln, l)):
        print(f"{i // 2 + 1:<6}{name:10}{r['rtps']:>10}{r['p50_us']:>10}{r['p99_us']:>10}{r['errors']:>8}{r['cpu']:>7}{per_cpu(r):>10.0f}")
    ratios.append(float(l['rtps']) / float(h['rtps']))
    cpu_ratios.append(per_cpu(l) / max(1.0, per_cpu(h)))
    p99s.append(float(l['p99_us']) / max(1.0, float(h['p99_us'])))
print(f"rounds' rt/s ratios: {' '.join(f'{r:.2f}' for r in ratios)}")
print(f"ratio HaLua/HAProxy (median of {len(ratios)} rounds): rt/s {statistics.median(ratios):.2f}   rt per CPU-second {statistics.median(cpu_ratios):.2f}   p99 {statistics.median(p99s):.2f}")
print("(cpu: share of one core the server used while measured; the load generator is pinned to the other core)")
PY
