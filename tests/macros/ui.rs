//! `#[windlass::main]` and `#[windlass::test]` misuse is a compile error
//! pointing at the offending token: each `tests/macros/ui/*.rs` must fail
//! to compile with exactly the message in its `.stderr` file (regenerate
//! with `TRYBUILD=overwrite cargo test --test macros --features macros ui::`
//! after an intended change, and review the diff). `pass_*.rs` must compile and run.
#[test]
fn misuse_is_a_compile_error_at_the_token() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/macros/ui/main_*.rs");
    t.compile_fail("tests/macros/ui/test_*.rs");
    t.pass("tests/macros/ui/pass_*.rs");
}
