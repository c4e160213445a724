#!/usr/bin/env bash
# Runs the runtime bench with every contender's threads pinned to one of
# two layouts on CPUs 0 and 1, so that a 2-worker comparison does not depend
# on where the OS happens to place the spawning main thread and the workers
# (docs/PERFORMANCE.md, "spawn_many_remote_busy: what decides the mode").
#
#   benches/runtime/pin-layout.sh LAYOUT BIN [bench args...]
#
# LAYOUT:
#   shared  main thread and worker 0 of each runtime on CPU 0, worker 1 on CPU 1
#   apart   main thread on CPU 0, both workers of each runtime on CPU 1
#   free    no pinning (the OS decides), for comparison
#
# The environment passes through (BENCH_WORKERS=2 is the layout's premise;
# BENCH_PROBE=1 shows where each thread ran). The threads are pinned by name
# (windlass-worker, tokio-rt-worker, smol-worker-*) as soon as the number of
# threads has stopped changing for 10 ms (the bench builds every runtime
# before its first warm-up run); what taskset printed goes to stderr.
set -euo pipefail
layout=$1 bin=$2
shift 2
case $layout in shared | apart | free) ;; *)
    echo "layout must be shared, apart or free, not '$layout'" >&2
    exit 2
    ;;
esac
"$bin" "$@" &
pid=$!
count() { ls /proc/"$pid"/task 2>/dev/null | wc -l; }
last=0
for _ in $(seq 200); do
    now=$(count)
    [ "$now" -ge 3 ] && [ "$now" = "$last" ] && break
    last=$now
    sleep 0.01
done
if [ "$layout" != free ]; then
    taskset -p -c 0 "$pid" >&2
    next=0
    for t in /proc/"$pid"/task/*; do
        case $(cat "$t/comm" 2>/dev/null) in
        windlass-worker | tokio-rt-worker | smol-worker-*)
            if [ "$layout" = apart ]; then cpu=1; else cpu=$next next=$((1 - next)); fi
            taskset -p -c "$cpu" "$(basename "$t")" >&2
            ;;
        esac
    done
fi
wait "$pid"
