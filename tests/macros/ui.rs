//! `#[windlass::main]` and `#[windlass::test]` misuse is a compile error
//! pointing at the offending token: each `tests/ui/*.rs` must fail to
//! compile with exactly the message in its `.stderr` file (regenerate with
//! `TRYBUILD=overwrite cargo test --test macros_ui --features macros` after
//! an intended change, and review the diff). `pass_*.rs` must compile and run.
#![cfg(feature = "macros")]

#[test]
fn misuse_is_a_compile_error_at_the_token() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/main_*.rs");
    t.compile_fail("tests/ui/test_*.rs");
    t.pass("tests/ui/pass_*.rs");
}
