//! Rule 5 of the [module docs](super): SIGPIPE must not kill us when a
//! child stops reading its stdin.

use crate::loom::std::sync::Once;

/// Sets SIGPIPE to "ignore" if it is at its default action (once per
/// process). A Rust binary has it ignored already, so this changes nothing
/// there; a handler someone installed is left alone.
pub(super) fn ensure_ignored() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sigaction` with a null new action only reads the
        // current one into `old`, a zeroed (valid) `sigaction` struct.
        // Setting SIG_IGN installs no handler code, so no async-signal-
        // safety question arises. Code that installs a SIGPIPE handler on
        // another thread between the two calls would see it replaced: a
        // race in behaviour only, never in memory. (SAFETY, in short: libc
        // calls on valid, initialised arguments.)
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_DFL
            {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
        }
    });
}
