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

python3 "$BENCH_ROOT/summarize.py" "tcp-echo: Lua TCP echo, $CONNS conns x 16-byte lines, 1 worker vs nbthread 1" rt rtps "${lines[@]}" | tee -a "$RESULTS/tcp-echo.txt"
