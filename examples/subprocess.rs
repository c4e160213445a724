//! asyncio's subprocess pattern: start several shell commands at once,
//! `communicate()` with each, and report how each ended.
//!
//! ```python
//! async def run(cmd):
//!     proc = await asyncio.create_subprocess_shell(cmd, stdout=PIPE, stderr=PIPE)
//!     stdout, stderr = await proc.communicate()
//!     print(f"[{cmd!r} exited with {proc.returncode}]")
//!     ...
//!
//! async def main():
//!     await asyncio.gather(run("ls /zzz"), run("sleep 1; echo hello"))
//! ```
//!
//! The commands here each sleep 300 ms (the "work"); run together they
//! take about as long as the slowest one, run one after another as long
//! as all of them added up. The example times both ways.
//!
//! Run it with `cargo run --example subprocess --features macros`. It
//! checks its own claims.

use std::time::{Duration, Instant};

use windlass::join_all;
use windlass::process::{Command, Stdio};

/// The "work" each command does.
const WORK: Duration = Duration::from_millis(300);

/// What one command gave back.
struct Ran {
    cmd: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `create_subprocess_shell(cmd, stdout=PIPE, stderr=PIPE)`, then
/// `communicate()`.
async fn run(cmd: String) -> std::io::Result<Ran> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = child.wait_with_output().await?;
    Ok(Ran {
        cmd,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn report(ran: &Ran) {
    println!("[{:?} exited with {:?}]", ran.cmd, ran.code);
    if !ran.stdout.is_empty() {
        println!("[stdout]\n{}", ran.stdout.trim_end());
    }
    if !ran.stderr.is_empty() {
        println!("[stderr]\n{}", ran.stderr.trim_end());
    }
}

fn commands() -> Vec<String> {
    let secs = WORK.as_secs_f64();
    let mut cmds = vec![format!("sleep {secs}; ls /zzz-no-such-dir")];
    cmds.extend((1..=3).map(|i| format!("sleep {secs}; echo hello {i}")));
    cmds
}

#[windlass::main]
async fn main() -> std::io::Result<()> {
    // 1. All at once: asyncio.gather(run(a), run(b), ...).
    let start = Instant::now();
    let together = join_all(commands().into_iter().map(run)).await;
    let concurrent = start.elapsed();
    let together: Vec<Ran> = together.into_iter().collect::<Result<_, _>>()?;
    for ran in &together {
        report(ran);
    }

    // 2. One after another, for comparison.
    let start = Instant::now();
    let mut one_by_one = Vec::new();
    for cmd in commands() {
        one_by_one.push(run(cmd).await?);
    }
    let sequential = start.elapsed();
    println!("concurrently: {concurrent:?}, one after another: {sequential:?}");

    // The claims.
    let n = together.len() as u32;
    assert_eq!(together[0].code, Some(2), "ls of a missing directory fails");
    assert!(together[0].stderr.contains("zzz-no-such-dir"));
    for (i, ran) in together.iter().enumerate().skip(1) {
        assert_eq!(ran.code, Some(0));
        assert_eq!(ran.stdout, format!("hello {i}\n"));
    }
    let same = |a: &Ran, b: &Ran| (a.code, &a.stdout) == (b.code, &b.stdout);
    assert!(together.iter().zip(&one_by_one).all(|(a, b)| same(a, b)));
    assert!(sequential >= WORK * n, "one after another adds up the work");
    assert!(
        concurrent < WORK * n / 2,
        "together the commands overlap: {concurrent:?} for {n} x {WORK:?}"
    );
    println!("all claims checked: OK");
    Ok(())
}
