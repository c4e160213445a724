//! Loom models for windlass live in `tests/`; run them with `RUSTFLAGS="--cfg loom"`.
