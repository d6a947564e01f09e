# Helpers shared by the bench scripts.
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_ROOT/.." && pwd)
WORK="$BENCH_ROOT/.work"
RESULTS="$BENCH_ROOT/results"
mkdir -p "$WORK" "$RESULTS"
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # port name logfile
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "$2 did not start listening on port $1:" >&2
  cat "$3" >&2 || true
  exit 1
}

build_halua() {
  echo "building HaLua (Release)..." >&2
  dotnet publish "$REPO_ROOT/src/DataPlane" -c Release -o "$WORK/halua" --nologo -v q >/dev/null
}

# nginx-light as the origin of the HTTP workloads (bench/http-proxy/nginx.conf), on the load's
# CPU, in DIR; sets ORIGIN_PORT.
start_nginx_origin() { # dir
  ORIGIN_PORT=$(free_port)
  rm -rf "$1"; mkdir -p "$1"
  sed "s|\${ORIGIN_PORT}|$ORIGIN_PORT|; s|\${WORK}|$1|g" "$BENCH_ROOT/http-proxy/nginx.conf" > "$1/nginx.conf"
  $PIN_LOAD nginx -c "$1/nginx.conf" -e "$1/nginx-error.log" &
  PIDS+=($!)
  wait_port "$ORIGIN_PORT" nginx "$1/nginx-error.log"
}

build_tool() { # project-dir name
  dotnet publish "$1" -c Release -o "$WORK/$2" --nologo -v q >/dev/null
}

# CPU pinning: the server under test on CPU 0, the load generator on CPU 1 (2-core machines).
PIN_SERVER="taskset -c 0"
PIN_LOAD="taskset -c 1"

# CPU seconds (user+system) a process has used so far, from /proc (clock ticks -> seconds).
cpu_seconds() { # pid
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Runs in the background: samples a process's CPU over [start, start+length) seconds and writes
# the CPU share it used (1.00 = one full core) to FILE.
sample_cpu() { # pid start length file
  (
    sleep "$2"; local a; a=$(cpu_seconds "$1")
    sleep "$3"; local b; b=$(cpu_seconds "$1")
    awk -v a="$a" -v b="$b" -v d="$3" 'BEGIN { printf "%.2f", (b - a) / d }' > "$4"
  ) &
}
