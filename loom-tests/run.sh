#!/usr/bin/env bash
# Runs the loom models of windlass (loom-tests/tests/*.rs) in release mode.
#
#   bash loom-tests/run.sh                 # every model
#   bash loom-tests/run.sh wake_by         # models whose name contains "wake_by"
#
# Environment:
#   LOOM_MAX_PREEMPTIONS  preemption bound (default 2; CI keeps the default)
#   LOOM_LOCATION=1       name the source location of leaked/raced objects
#   LOOM_CHECKPOINT_FILE  save/resume the failing interleaving (see loom docs)
#
# The crate is built with `--cfg loom` into its own target directory, so it
# does not invalidate the normal build. Each model prints how many
# interleavings it explored and how long that took.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg loom"
export CARGO_TARGET_DIR=target/loom
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
# Release speed, but with windlass's debug_assert!s (state-word and idle
# invariants, reference-count underflow) checked in every interleaving. A
# profile setting, so these artifacts sit beside the plain `--cfg loom`
# release ones in target/loom instead of replacing them.
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true

start=$SECONDS
cargo test -p windlass-loom-tests --release -- --nocapture "$@"
echo "loom models passed in $((SECONDS - start))s (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS)"
