#!/usr/bin/env bash
# The lead's device run: every figure issue 16 and issue 12 still need from
# a quiet multi-core host, in one script of at most ~420 s, from a bench
# binary built elsewhere (the host has no cargo and no network).
#
# Build here (release, with the hyper feature so that part C can run):
#   cargo bench --features hyper --bench runtime --no-run 2>&1 | grep Executable
#   # -> Executable benches/runtime/main.rs (target/release/deps/runtime-<hash>)
#   benches/runtime/device-run.sh --find     # prints that path and its size
# Run on the host, from the repository root:
#   OUT=/some/dir benches/runtime/device-run.sh path/to/runtime-<hash>
# ($OUT defaults to ./device-out.) Afterwards, here:
#   python3 benches/runtime/plot_scaling.py scaling.png $OUT/a-scaling-w*.md
#
# Parts (each with a hard time limit; a part cut short keeps what it wrote):
#   A  scaling table: BENCH_WORKERS=1,2,4,8,16 (capped at the CPU count) x
#      spawn_many*, yield_many, ping_pong, chained_spawn, tcp_echo,
#      cpu_fanout; PASSES_A sweeps (w1..w16, then again), unpinned.
#   B  2 workers pinned with `taskset -c 0,1`: every ns/op workload (fan_in
#      and request_response included) and the timer-lateness report; then the
#      latency-under-load report pinned the same way and once unpinned (the
#      pacer thread spins: pinned, it shares the two CPUs with the workers;
#      unpinned, it has a core of its own, as in PERFORMANCE.md's earlier
#      table); then the idle-tasks (memory) report, pinned; then
#      spawn_many_remote_busy alone in BUSY_PROCS fresh processes with its
#      stop flag on a line of its own and BUSY_PROCS with it deliberately on
#      the latch's line (BENCH_STOP_FLAG=padded/shared: is the two-speed-
#      per-process behaviour false sharing?); then the workloads again
#      (PASSES_B in all), so that "in every run" can be checked. The
#      repeat comes last: if the part's limit cuts it, only it is lost.
#   C  the in-process HTTP group: server threads (2 workers) pinned to CPUs
#      0,1, the client thread to 2,3 (BENCH_HTTP_SERVER_CPUS/CLIENT_CPUS).
# Outputs in $OUT: <part>.md (the tables, stdout), <part>.err (progress,
# stderr), machine.txt (lscpu, uptime before/after, kernel, binary hash),
# times.txt (seconds per part, so the lead can trim), summary.txt (the wall
# and CPU ns/op rows of the goals' workloads from every run).
# The binary lives under target/, which git ignores: a tool that copies the
# working tree must be told to carry it (38 MiB with the bench profile's
# debug info).
#
# Knobs (defaults sized for ~300 s on a 16-vCPU host; the limits below cap
# each part whatever happens, 410 s in all): ROUNDS (7), SAMPLE_MS (40),
# WARMUP (2), PASSES_A (1), PASSES_B (2), BUSY_PROCS (4), HTTP_MS (1500),
# HTTP_ROUNDS (3), LIMIT_A (160), LIMIT_B (160), LIMIT_C (90), PARTS (ABC;
# e.g. PARTS=C runs only part C). Where the time goes (2 loaded cores, 2026-12-04): one
# worker count of part A took 25-30 s, of which tcp_echo (64,000 round
# trips a run, never repeated) is about half; one pass of part B's
# workloads 80 s (tcp_echo, fan_in, fan_in_bounded, timers and
# many_connections, whose single runs exceed the sample time, are most of
# it); the latency report 6-8 s, idle tasks 8 s; part C 4 x 3 x 3 windows of
# HTTP_MS + 300 ms. Expect roughly half of that on the 16-vCPU host.
# A local end-to-end test with tiny settings:
#   ROUNDS=1 WARMUP=0 SAMPLE_MS=1 PASSES_B=1 HTTP_MS=100 HTTP_ROUNDS=1 \
#     SMOKE=1 OUT=/tmp/dr benches/runtime/device-run.sh target/release/deps/runtime-<hash>
# (SMOKE=1 also shrinks the sizes of the latency and idle-task reports.)
set -uo pipefail

if [[ ${1:-} == --find ]]; then
  cd "$(dirname "$0")/../.."
  bin=$(ls -t target/release/deps/runtime-* 2>/dev/null | grep -v '\.d$' | head -1)
  [[ -n $bin ]] || { echo "no target/release/deps/runtime-*: build it with"\
    "cargo bench --features hyper --bench runtime --no-run" >&2; exit 1; }
  echo "$bin ($(du -m "$bin" | cut -f1) MiB; strip a copy if it must travel smaller)"
  exit 0
fi

bin=${1:?usage: device-run.sh BENCH_BINARY (or --find)}
[[ -f $bin && ! -x $bin ]] && chmod +x "$bin" 2>/dev/null
[[ -x $bin ]] || { echo "$bin is not an executable file" >&2; exit 1; }
# Pinning needs taskset (util-linux); without it part B runs unpinned and
# says so in machine.txt.
pin2=(taskset -c 0,1)
command -v taskset >/dev/null || pin2=()
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
out=${OUT:-./device-out}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)

ROUNDS=${ROUNDS:-7}; SAMPLE_MS=${SAMPLE_MS:-40}; WARMUP=${WARMUP:-2}
PASSES_A=${PASSES_A:-1}; PASSES_B=${PASSES_B:-2}; BUSY_PROCS=${BUSY_PROCS:-4}
HTTP_MS=${HTTP_MS:-1500}; HTTP_ROUNDS=${HTTP_ROUNDS:-3}
LIMIT_A=${LIMIT_A:-160}; LIMIT_B=${LIMIT_B:-160}; LIMIT_C=${LIMIT_C:-90}
PARTS=${PARTS:-ABC}
cpus=$(nproc)
# `--bench` selects the measuring mode; without it the binary runs its quick
# smoke mode (one round, small sizes), which SMOKE=1 asks for.
mode=--bench
[[ ${SMOKE:-0} == 1 ]] && mode=

export BENCH_ROUNDS=$ROUNDS BENCH_SAMPLE_MS=$SAMPLE_MS BENCH_WARMUP=$WARMUP BENCH_TIMEOUT_S=30

t_all=$(date +%s)
log_time() { printf '%-28s %4ss\n' "$1" "$2" | tee -a "$out/times.txt"; }
# run NAME LIMIT_LEFT_VAR CMD...: one bench invocation, stdout to NAME.md,
# stderr to NAME.err, cut off at the part's remaining time.
deadline=0
run() {
  local name=$1; shift
  local left=$(( deadline - $(date +%s) ))
  if (( left < 5 )); then echo "skipped (part time limit)" > "$out/$name.md"; log_time "$name" skipped; return; fi
  local t0; t0=$(date +%s)
  timeout --signal=INT --kill-after=5 "$left" "$@" > "$out/$name.md" 2> "$out/$name.err"
  local rc=$?
  (( rc != 0 )) && echo "exit status $rc (124: cut off by the part's time limit)" >> "$out/$name.err"
  log_time "$name" $(( $(date +%s) - t0 ))
}

{
  echo "date: $(date -u '+%F %T UTC')"
  echo "uptime before: $(uptime)"
  echo "kernel: $(uname -a)"
  echo "binary: $bin"
  echo "binary sha256: $(sha256sum "$bin" | cut -d' ' -f1)"
  echo "git: $(git rev-parse HEAD 2>/dev/null || echo unknown) $(git status --short 2>/dev/null | wc -l) changed files"
  echo "settings: ROUNDS=$ROUNDS SAMPLE_MS=$SAMPLE_MS WARMUP=$WARMUP PASSES_A=$PASSES_A PASSES_B=$PASSES_B HTTP_MS=$HTTP_MS HTTP_ROUNDS=$HTTP_ROUNDS SMOKE=${SMOKE:-0}"
  (( ${#pin2[@]} )) || echo "WARNING: no taskset here: part B ran UNPINNED"
  echo; lscpu; echo; free -m
} > "$out/machine.txt" 2>&1
: > "$out/times.txt"

# --- A: scaling -------------------------------------------------------------
if [[ $PARTS == *A* ]]; then
  t0=$(date +%s); deadline=$(( t0 + LIMIT_A ))
  scaling=spawn_many,yield_many,ping_pong,chained_spawn,tcp_echo,cpu_fanout
  for pass in $(seq 1 "$PASSES_A"); do
    for w in 1 2 4 8 16; do
      (( w > cpus )) && continue
      BENCH_WORKERS=$w run "a-scaling-w$w-p$pass" "$bin" $mode "$scaling"
    done
  done
  log_time "A total" $(( $(date +%s) - t0 ))
fi

# --- B: 2 workers pinned to CPUs 0,1 -----------------------------------------
if [[ $PARTS == *B* ]]; then
  t0=$(date +%s); deadline=$(( t0 + LIMIT_B ))
  # Every ns/op workload by name (an empty filter would also run the
  # reports and the HTTP group, which have parts of their own).
  all=spawn_many,yield_many,ping_pong,chained_spawn,blocking,tcp_echo,many_connections
  all=$all,join_all,join_set,sync_,fan_in,request_response,cpu_fanout,timers
  BENCH_WORKERS=2 run b-pinned2-workloads-p1 "${pin2[@]}" "$bin" $mode "$all"
  BENCH_WORKERS=2 run b-pinned2-latency "${pin2[@]}" "$bin" $mode latency
  BENCH_WORKERS=2 run b-unpinned2-latency "$bin" $mode latency
  BENCH_WORKERS=2 run b-pinned2-idle-tasks "${pin2[@]}" "$bin" $mode idle_tasks
  for p in $(seq 1 "$BUSY_PROCS"); do
    for flag in padded shared; do
      BENCH_STOP_FLAG=$flag BENCH_WORKERS=2 BENCH_ROUNDS=5 \
        run "b-pinned2-busy-$flag-$p" "${pin2[@]}" "$bin" $mode spawn_many_remote_busy
    done
  done
  for pass in $(seq 2 "$PASSES_B"); do
    BENCH_WORKERS=2 run "b-pinned2-workloads-p$pass" "${pin2[@]}" "$bin" $mode "$all"
  done
  log_time "B total" $(( $(date +%s) - t0 ))
fi

# --- C: HTTP, server on CPUs 0,1, client on 2,3 -------------------------------
if [[ $PARTS == *C* ]]; then
  t0=$(date +%s); deadline=$(( t0 + LIMIT_C ))
  if (( cpus < 4 )); then
    echo "only $cpus CPUs: the client shares CPU 0-1 with the server" > "$out/c-http.note"
    client_cpus=0,1
  else
    client_cpus=2,3
  fi
  BENCH_HTTP_SERVER_CPUS=0,1 BENCH_HTTP_CLIENT_CPUS=$client_cpus \
    BENCH_HTTP_MS=$HTTP_MS BENCH_HTTP_ROUNDS=$HTTP_ROUNDS run c-http "$bin" $mode http
  if grep -q "needs the hyper feature" "$out/c-http.err" 2>/dev/null; then
    echo "part C: the binary was built without --features hyper; rebuild with it" | tee -a "$out/c-http.err" >&2
  fi
  log_time "C total" $(( $(date +%s) - t0 ))
fi

echo "uptime after: $(uptime)" >> "$out/machine.txt"

# A first look for the lead: the median rows of the goals' workloads, one
# line per run (first table of each file: median wall ns/op; then the CPU
# ns/op table's row).
{
  echo "# median ns/op rows (windlass, tokio, smol, windlass/tokio, smol/tokio)"
  for f in "$out"/b-pinned2-workloads-p*.md "$out"/b-pinned2-busy-*.md; do
    [[ -f $f ]] || continue
    for w in fan_in fan_in_bounded request_response spawn_many_remote_busy tcp_echo; do
      row=$(grep -m1 "^| $w |" "$f") || continue
      cpu=$(sed -n '/^Median CPU ns\/op/,$p' "$f" | grep -m1 "^| $w |")
      echo "$(basename "$f" .md): wall $row"
      [[ -n $cpu ]] && echo "$(basename "$f" .md): cpu  $cpu"
    done
  done
} > "$out/summary.txt"
log_time "all" $(( $(date +%s) - t_all ))
echo "outputs in $out"
