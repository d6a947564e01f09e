#!/usr/bin/env bash
# Control-plane benchmark (issue 5): for HaLua's gRPC admin API and HAProxy's runtime API (TCP
# stats socket, prompt mode) on the same data plane, one after the other in one run:
#  - reply-to-visible latency (after WARMUP unmeasured rounds of the same): re-target a server (set addr) then open the next connection; change a
#    map entry then send the next HTTP request. Every probe must see the change (misses=0).
#  - RPCs per second: CONCURRENCY callers doing set weight, then set map, for DURATION seconds,
#    through the .NET SDK (HaLua) and through text sessions (HAProxy); then, for HaLua, the same two
#    RPCs driven by h2load (nghttp2's C HTTP/2 load generator: one connection, H2LOAD_STREAMS
#    streams in flight) after H2LOAD_WARMUP seconds, which measures the server and not the .NET
#    gRPC client (that client spends about 95 us of CPU per call: on its one core it tops out
#    near 10,000 calls/s). Every h2load call must come back OK: the server's audit log is checked.
# Prints each result and the HaLua/HAProxy ratios.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-5}
# HAProxy serves at most 10 stats socket sessions at once (its maxconn there): more callers would wait forever.
CONCURRENCY=${CONCURRENCY:-8}
ITERATIONS=${ITERATIONS:-300}
WARMUP=${WARMUP:-1000}
H2LOAD_STREAMS=${H2LOAD_STREAMS:-64}
H2LOAD_WARMUP=${H2LOAD_WARMUP:-5}
"$BENCH_ROOT/install.sh"
build_halua
build_tool "$BENCH_ROOT/tools/AdminBench" adminbench

# Two origin servers that answer their name and close.
origin() { # name port
  python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[2]))); s.listen(512)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[1].encode()); c.close()
' "$1" "$2" &
  PIDS+=($!)
}
A=$(free_port); B=$(free_port)
origin A "$A"; origin B "$B"

run_one() { # name admin-kind command...
  local name=$1 kind=$2; shift 2
  local dir="$WORK/admin-$name"; rm -rf "$dir"; mkdir -p "$dir"
  local tcp http adm line target
  tcp=$(free_port); http=$(free_port); adm=$(free_port)
  if [ "$kind" = grpc ]; then line="admin-api 127.0.0.1:$adm"; target="--grpc 127.0.0.1:$adm";
  else line="stats socket ipv4@127.0.0.1:$adm level admin"; target="--cli 127.0.0.1:$adm"; fi
  echo "k v0" > "$dir/m.map"
  sed -e "s|\${ADMIN_LINE}|$line|" -e "s|\${TCP}|$tcp|" -e "s|\${HTTP}|$http|" -e "s|\${A}|$A|" -e "s|\${DIR}|$dir|" \
    "$BENCH_ROOT/admin/haproxy.cfg" > "$dir/haproxy.cfg"
  (cd "$dir" && exec $PIN_SERVER "$@" -f haproxy.cfg >"$dir/out.log" 2>&1) &
  local pid=$!; PIDS+=($pid)
  wait_port "$adm" "$name" "$dir/out.log"; wait_port "$http" "$name" "$dir/out.log"
  timeout 300 $PIN_LOAD "$WORK/adminbench/AdminBench" $target --tcp "$tcp" --http "$http" --map "$dir/m.map" --a "$A" --b "$B" \
    --iterations "$ITERATIONS" --warmup "$WARMUP" --concurrency "$CONCURRENCY" --duration "$DURATION" | tee "$dir/result.log" | sed "s/^RESULT /$name /"
  if [ "$kind" = grpc ]; then
    "$WORK/adminbench/AdminBench" --h2load-bodies "$dir/bodies" --map "$dir/m.map"
    h2rate ServerService/SetWeight "$dir/bodies/setweight.bin" h2_set_weight_rps
    h2rate MapService/SetMapEntry "$dir/bodies/setmap.bin" h2_map_set_rps
  fi
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

h2rate() { # method body result-name; uses adm, dir, name from run_one
  local method=$1 body=$2 result=$3 out rate answered audited
  local from; from=$(stat -c %s "$dir/out.log")
  out=$($PIN_LOAD h2load -c1 -m"$H2LOAD_STREAMS" -D "$DURATION" --warm-up-time "$H2LOAD_WARMUP" -d "$body" \
    -H 'content-type: application/grpc' -H 'te: trailers' "http://127.0.0.1:$adm/halua.admin.v1.$method")
  rate=$(awk '/^finished in/ { printf "%d", $4 }' <<<"$out")
  answered=$(awk '/^requests:/ { print $8 }' <<<"$out")
  # Each call is audited with its status (the log's lines since h2load started): all must be OK,
  # and at least as many as h2load counted.
  audited=$(tail -c +"$((from + 1))" "$dir/out.log" | awk -v m="/halua.admin.v1.$method " 'index($0, m) { if (/-> OK$/) ok++; else bad++ } END { print ok + 0, bad + 0 }')
  if [ "${audited% *}" -lt "$answered" ] || [ "${audited#* }" != 0 ]; then
    echo "h2load $method: $answered calls answered; audited OK and not: $audited" >&2; exit 1
  fi
  echo "$name $result rate=$rate"
}

{
  run_one haproxy cli haproxy -db
  run_one halua grpc "$WORK/halua/halua" -db
} | tee "$WORK/admin.out"

python3 - "$WORK/admin.out" <<'PY' | tee -a "$RESULTS/admin.txt"
import sys, re, datetime
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 3: continue
    rows[(parts[0], parts[1])] = dict(p.split("=") for p in parts[2:])
print(f"admin: {datetime.datetime.now():%Y-%m-%d %H:%M}")
for metric in ("addr_visible", "map_visible"):
    h, q = rows.get(("halua", metric)), rows.get(("haproxy", metric))
    if h and q:
        print(f"  {metric}: HaLua p50 {h['p50_ms']} ms p99 {h['p99_ms']} ms misses {h['misses']} | HAProxy p50 {q['p50_ms']} ms p99 {q['p99_ms']} ms misses {q['misses']}")
for metric in ("set_weight_rps", "map_set_rps"):
    h, q, h2 = rows.get(("halua", metric)), rows.get(("haproxy", metric)), rows.get(("halua", "h2_" + metric))
    if h and q:
        print(f"  {metric}: HaLua through the .NET SDK {h['rate']}/s, HAProxy {q['rate']}/s, ratio {float(h['rate'])/float(q['rate']):.2f}")
    if h2 and q:
        print(f"  {metric}: HaLua driven by h2load {h2['rate']}/s, ratio to HAProxy {float(h2['rate'])/float(q['rate']):.2f}   goal: over 20000/s")
PY
