//! `#[windlass::main]` and `#[windlass::test]` (feature `macros`): the
//! attributes at work, and their compile errors (trybuild, `ui/`), linked
//! as one test binary.

mod attributes;
mod ui;
