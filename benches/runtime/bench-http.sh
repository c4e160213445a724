#!/usr/bin/env bash
# Syscalls per request of each runtime's hyper server, with wrk as the load
# (a process of its own, so only the server's syscalls are counted):
#   perf stat -p SERVER -- wrk ...   counts the server's syscalls for exactly
#   the life of the wrk run; divided by the requests wrk reports.
# Usage: benches/runtime/bench-http.sh [conns] [seconds] [path]
# Needs: perf (linux-perf), wrk, a release build of the bench with --features hyper.
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-64}; secs=${2:-5}; path=${3:-/}
cargo build --release --features hyper --bench runtime >/dev/null 2>&1
bin=$(ls -t target/release/deps/runtime-* | grep -v '\.d$' | head -1)
events=raw_syscalls:sys_enter,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_futex,syscalls:sys_enter_timerfd_settime,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_write
printf '| runtime | conns | wrk req/s | p50 | p99 | syscalls/req | read+recvfrom | writev+sendto | epoll_wait+pwait | futex | timerfd_settime | epoll_ctl | write |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
port=18080
for rt in windlass tokio smol; do
  port=$((port + 1))
  BENCH_HTTP_SERVE=$rt BENCH_HTTP_PORT=$port "$bin" 2>/dev/null &
  pid=$!
  sleep 1
  out=$(perf stat -x, -e "$events" -p "$pid" -- wrk -t1 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port$path" 2>&1)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  reqs=$(grep -oE '^ *[0-9]+ requests in' <<<"$out" | grep -oE '[0-9]+')
  rps=$(grep -oE 'Requests/sec: *[0-9.]+' <<<"$out" | grep -oE '[0-9.]+$')
  p50=$(grep -E '^ *50%' <<<"$out" | awk '{print $2}')
  p99=$(grep -E '^ *99%' <<<"$out" | awk '{print $2}')
  c() { local n; n=$(grep ",$1," <<<"$out" | head -1 | cut -d, -f1); echo "${n:-0}"; }
  per() { awk -v a="$1" -v r="$reqs" 'BEGIN{printf "%.2f", a/r}'; }
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$rt" "$conns" "$rps" "$p50" "$p99" \
    "$(per "$(c raw_syscalls:sys_enter)")" \
    "$(per $(( $(c syscalls:sys_enter_read) + $(c syscalls:sys_enter_recvfrom) )))" \
    "$(per $(( $(c syscalls:sys_enter_writev) + $(c syscalls:sys_enter_sendto) )))" \
    "$(per $(( $(c syscalls:sys_enter_epoll_wait) + $(c syscalls:sys_enter_epoll_pwait) )))" \
    "$(per "$(c syscalls:sys_enter_futex)")" \
    "$(per "$(c syscalls:sys_enter_timerfd_settime)")" \
    "$(per "$(c syscalls:sys_enter_epoll_ctl)")" \
    "$(per "$(c syscalls:sys_enter_write)")"
done
