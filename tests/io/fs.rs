//! `windlass::fs`: the free functions, `ReadDir`, and `File` (buffering,
//! seeking, errors, drop), checked against std on the same data.

use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{TempDir, current};
use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};
use windlass::fs::{self, File, OpenOptions};

/// The size of `File`'s buffer, to cross its edges on purpose.
const BUF: usize = 64 * 1024;

fn run<F: Future>(future: F) -> F::Output {
    windlass::Runtime::new().unwrap().block_on(future)
}

/// Deterministic pseudo-random bytes (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// Reads until `n` bytes or end of file.
async fn read_up_to(file: &mut File, n: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    (&mut *file).take(n as u64).read_to_end(&mut out).await?;
    Ok(out)
}

fn std_read_up_to(file: &mut std::fs::File, n: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    Read::by_ref(file).take(n as u64).read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<File>();
    send_sync::<OpenOptions>();
    send_sync::<fs::ReadDir>();
    send_sync::<fs::DirEntry>();
    // The futures can be spawned.
    send(&fs::read("x"));
    send(&fs::write("x", "y"));
    send(&fs::read_dir("x"));
    send(&File::open("x"));
}

#[test]
fn write_then_read_bytes_and_string() {
    let dir = TempDir::new("roundtrip");
    run(async {
        let path = dir.join("hello");
        fs::write(&path, b"bytes \x00\x01").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"bytes \x00\x01");
        fs::write(&path, "h\u{e9}llo").await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "h\u{e9}llo");
        assert_eq!(std::fs::read(&path).unwrap(), "h\u{e9}llo".as_bytes());
    });
}

#[test]
fn copy_rename_remove() {
    let dir = TempDir::new("copy");
    run(async {
        let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
        fs::write(&a, "payload").await.unwrap();
        assert_eq!(fs::copy(&a, &b).await.unwrap(), 7);
        assert_eq!(fs::read_to_string(&b).await.unwrap(), "payload");
        fs::rename(&b, &c).await.unwrap();
        assert_eq!(
            fs::metadata(&b).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(fs::read_to_string(&c).await.unwrap(), "payload");
        fs::remove_file(&a).await.unwrap();
        fs::remove_file(&c).await.unwrap();
        assert_eq!(
            fs::remove_file(&c).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );

        fs::create_dir(dir.join("empty")).await.unwrap();
        fs::remove_dir(dir.join("empty")).await.unwrap();
        fs::create_dir_all(dir.join("tree/x/y")).await.unwrap();
        fs::write(dir.join("tree/x/y/f"), "f").await.unwrap();
        assert!(fs::remove_dir(dir.join("tree")).await.is_err(), "not empty");
        fs::remove_dir_all(dir.join("tree")).await.unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    });
}

/// Creates `files` files and `dirs` directories under `root`; returns the
/// sorted names.
fn populate(root: &Path, files: usize, dirs: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..files {
        let name = format!("file-{i:03}");
        std::fs::write(root.join(&name), i.to_string()).unwrap();
        names.push(name);
    }
    for i in 0..dirs {
        let name = format!("dir-{i:03}");
        std::fs::create_dir(root.join(&name)).unwrap();
        names.push(name);
    }
    names.sort();
    names
}

#[test]
fn create_dir_all_and_read_dir_as_stream() {
    let dir = TempDir::new("readdir-stream");
    run(async {
        let root = dir.join("a/b/c");
        fs::create_dir_all(&root).await.unwrap();
        assert!(fs::metadata(&root).await.unwrap().is_dir());
        // More than one batch of entries.
        let expected = populate(&root, 70, 5);

        let entries: Vec<fs::DirEntry> = fs::read_dir(&root)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut names: Vec<String> = entries
            .iter()
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, expected);
        for entry in &entries {
            assert_eq!(entry.path(), root.join(entry.file_name()));
            let is_dir = entry.file_name().to_str().unwrap().starts_with("dir-");
            assert_eq!(entry.file_type().await.unwrap().is_dir(), is_dir);
            assert_eq!(entry.metadata().await.unwrap().is_dir(), is_dir);
        }
    });
}

#[test]
fn read_dir_next_entry() {
    let dir = TempDir::new("readdir-next");
    run(async {
        let expected = populate(dir.path(), 40, 3);
        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        let mut names = Vec::new();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            names.push(entry.file_name().into_string().unwrap());
        }
        // Stays at the end.
        assert!(entries.next_entry().await.unwrap().is_none());
        assert!(entries.next().await.is_none());
        names.sort();
        assert_eq!(names, expected);

        fs::create_dir(dir.join("empty")).await.unwrap();
        assert!(
            fs::read_dir(dir.join("empty"))
                .await
                .unwrap()
                .next_entry()
                .await
                .unwrap()
                .is_none()
        );
        let missing = fs::read_dir(dir.join("missing")).await.unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    });
}

#[test]
fn metadata_len() {
    let dir = TempDir::new("metadata");
    run(async {
        let path = dir.join("m");
        fs::write(&path, vec![1u8; 12345]).await.unwrap();
        let metadata = fs::metadata(&path).await.unwrap();
        assert!(metadata.is_file());
        assert_eq!(metadata.len(), 12345);

        // File::metadata counts bytes still in the buffer.
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&[2; 100]).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 100);
        assert_eq!(
            fs::canonicalize(&path).await.unwrap(),
            std::fs::canonicalize(&path).unwrap()
        );
    });
}

#[test]
fn file_write_flush_then_read_to_end() {
    let dir = TempDir::new("file-rw");
    run(async {
        let path = dir.join("f");
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"first line\n").await.unwrap();
        file.write_all(b"second line\n").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first line\nsecond line\n");
        drop(file);

        let mut contents = Vec::new();
        File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut contents)
            .await
            .unwrap();
        assert_eq!(contents, b"first line\nsecond line\n");

        // The buffered reader side: lines.
        let lines: Vec<String> = File::open(&path)
            .await
            .unwrap()
            .lines()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(lines, ["first line", "second line"]);
    });
}

#[test]
fn seek_accounts_for_buffered_reads() {
    let dir = TempDir::new("seek");
    let data = Rng(7).bytes(3 * BUF + 123);
    std::fs::write(dir.join("s"), &data).unwrap();
    run(async {
        let mut file = File::open(dir.join("s")).await.unwrap();
        let mut four = [0; 4];
        file.read_exact(&mut four).await.unwrap(); // the buffer holds 64 KiB
        assert_eq!(four, data[..4]);
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 4);
        assert_eq!(
            file.seek(SeekFrom::Current(0)).await.unwrap(),
            4,
            "a seek leaves the position as is"
        );
        assert_eq!(read_up_to(&mut file, 10).await.unwrap(), data[4..14]);

        assert_eq!(file.seek(SeekFrom::Start(1000)).await.unwrap(), 1000);
        assert_eq!(read_up_to(&mut file, 5).await.unwrap(), data[1000..1005]);

        assert_eq!(file.seek(SeekFrom::Current(-3)).await.unwrap(), 1002);
        assert_eq!(read_up_to(&mut file, 5).await.unwrap(), data[1002..1007]);

        assert_eq!(
            file.seek(SeekFrom::Current(BUF as i64)).await.unwrap(),
            1007 + BUF as u64
        );
        assert_eq!(
            read_up_to(&mut file, 3).await.unwrap(),
            data[1007 + BUF..1010 + BUF]
        );

        let end = data.len() as u64;
        assert_eq!(file.seek(SeekFrom::End(-10)).await.unwrap(), end - 10);
        assert_eq!(
            read_up_to(&mut file, 100).await.unwrap(),
            data[data.len() - 10..]
        );
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), end);
        assert_eq!(read_up_to(&mut file, 1).await.unwrap(), b"", "at the end");

        // Across the buffer's edge.
        file.seek(SeekFrom::Start(BUF as u64 - 2)).await.unwrap();
        assert_eq!(
            read_up_to(&mut file, 4).await.unwrap(),
            data[BUF - 2..BUF + 2]
        );
        assert_eq!(
            file.seek(SeekFrom::Current(0)).await.unwrap(),
            BUF as u64 + 2
        );

        // A failed seek leaves the position and the buffered bytes alone.
        file.seek(SeekFrom::Start(20)).await.unwrap();
        file.read_exact(&mut four).await.unwrap();
        let err = file.seek(SeekFrom::Current(-1000)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 24);
        assert_eq!(read_up_to(&mut file, 4).await.unwrap(), data[24..28]);

        // into_std hands over the logical position too.
        let mut std_file = file.into_std().await.unwrap();
        assert_eq!(std_file.stream_position().unwrap(), 28);
    });
}

#[test]
fn write_after_partial_read_lands_at_logical_position() {
    let dir = TempDir::new("read-write");
    let path = dir.join("rw");
    std::fs::write(&path, b"0123456789abcdefghij").unwrap();
    run(async {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        assert_eq!(read_up_to(&mut file, 3).await.unwrap(), b"012");
        file.write_all(b"XY").await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 5);
        assert_eq!(
            read_up_to(&mut file, 3).await.unwrap(),
            b"567",
            "reads resume after the write"
        );
        file.write_all(b"Z").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"012XY567Z9abcdefghij");

        // Writes then a seek from the end, then set_len.
        file.seek(SeekFrom::End(0)).await.unwrap();
        file.write_all(b"++").await.unwrap();
        file.seek(SeekFrom::Start(1)).await.unwrap();
        assert_eq!(read_up_to(&mut file, 2).await.unwrap(), b"12");
        file.set_len(4).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"012X");
        assert_eq!(
            file.seek(SeekFrom::Current(0)).await.unwrap(),
            3,
            "set_len keeps the position"
        );
        assert_eq!(read_up_to(&mut file, 10).await.unwrap(), b"X");
        file.sync_all().await.unwrap();
        file.sync_data().await.unwrap();
    });
}

#[test]
fn large_file_round_trip() {
    let dir = TempDir::new("large");
    let path = dir.join("big");
    let data = Rng(0x5eed).bytes(8 << 20);
    run(async {
        let mut file = File::create(&path).await.unwrap();
        // Uneven pieces, so writes straddle the buffer's edges.
        for piece in data.chunks(100_003) {
            file.write_all(piece).await.unwrap();
        }
        file.close().await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), data.len() as u64);

        let mut back = Vec::new();
        File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert!(back == data, "8 MiB read back through File differ");
        assert!(
            fs::read(&path).await.unwrap() == data,
            "8 MiB read back through fs::read differ"
        );
    });
}

/// Random reads, writes, seeks and flushes on a windlass `File` and a std
/// `File` over identical copies: every result and the final bytes match.
#[test]
fn random_operations_match_std() {
    let dir = TempDir::new("model");
    let (ours_path, std_path) = (dir.join("ours"), dir.join("std"));
    let mut rng = Rng(0xfeed_f00d);
    let initial = rng.bytes(2 * BUF + 500);
    std::fs::write(&ours_path, &initial).unwrap();
    std::fs::write(&std_path, &initial).unwrap();
    run(async {
        let mut ours = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&ours_path)
            .await
            .unwrap();
        let mut model = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&std_path)
            .unwrap();
        for step in 0..400 {
            let size = if rng.below(4) == 0 {
                rng.below(BUF as u64 * 2)
            } else {
                rng.below(300)
            } as usize;
            let len = model.metadata().unwrap().len() as i64;
            match rng.below(7) {
                0 | 1 => {
                    let got = read_up_to(&mut ours, size).await.unwrap();
                    assert_eq!(
                        got,
                        std_read_up_to(&mut model, size).unwrap(),
                        "step {step}: read {size}"
                    );
                }
                2 | 3 => {
                    let bytes = rng.bytes(size);
                    ours.write_all(&bytes).await.unwrap();
                    model.write_all(&bytes).unwrap();
                }
                4 => {
                    let pos = match rng.below(3) {
                        0 => SeekFrom::Start(rng.below(len as u64 + 100)),
                        1 => SeekFrom::End(-(rng.below(len as u64 + 1) as i64)),
                        _ => SeekFrom::Current(rng.below(2 * len as u64 + 1) as i64 - len),
                    };
                    let got = ours.seek(pos).await.map_err(|e| e.kind());
                    assert_eq!(
                        got,
                        model.seek(pos).map_err(|e| e.kind()),
                        "step {step}: {pos:?}"
                    );
                }
                5 => ours.flush().await.unwrap(),
                _ => {
                    let got = ours.seek(SeekFrom::Current(0)).await.unwrap();
                    assert_eq!(
                        got,
                        model.stream_position().unwrap(),
                        "step {step}: position"
                    );
                }
            }
        }
        ours.flush().await.unwrap();
    });
    assert!(
        std::fs::read(&ours_path).unwrap() == std::fs::read(&std_path).unwrap(),
        "final contents differ"
    );
}

#[test]
fn open_missing_is_not_found() {
    let dir = TempDir::new("missing");
    run(async {
        let err = File::open(dir.join("nope")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            fs::read(dir.join("nope")).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let err = OpenOptions::new()
            .write(true)
            .open(dir.join("nope"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "no create flag");
    });
}

#[test]
fn read_to_string_rejects_invalid_utf8() {
    let dir = TempDir::new("utf8");
    run(async {
        let path = dir.join("bad");
        fs::write(&path, [b'o', b'k', 0xc3, 0x28]).await.unwrap();
        assert_eq!(
            fs::read_to_string(&path).await.unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        let mut text = String::new();
        let err = File::open(&path)
            .await
            .unwrap()
            .read_to_string(&mut text)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    });
}

/// `/dev/full` fails every write with ENOSPC: the error of a background
/// write-out comes back once, from the next call.
#[cfg(target_os = "linux")]
#[test]
fn write_errors_are_reported() {
    const ENOSPC: i32 = 28;
    run(async {
        async fn open() -> io::Result<File> {
            OpenOptions::new().write(true).open("/dev/full").await
        }
        let mut file = open().await.unwrap();
        file.write_all(b"small").await.unwrap(); // only buffered
        assert_eq!(file.flush().await.unwrap_err().raw_os_error(), Some(ENOSPC));
        file.flush().await.unwrap(); // reported once; the data was dropped

        // A full buffer goes out in the background; the next write sees the error.
        let mut file = open().await.unwrap();
        let err = file.write_all(&vec![0; 3 * BUF]).await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(ENOSPC));

        // So does a seek, or sync_all.
        let mut file = open().await.unwrap();
        file.write_all(b"x").await.unwrap();
        assert_eq!(
            file.seek(SeekFrom::Start(0))
                .await
                .unwrap_err()
                .raw_os_error(),
            Some(ENOSPC)
        );
        file.write_all(b"x").await.unwrap();
        assert_eq!(
            file.sync_all().await.unwrap_err().raw_os_error(),
            Some(ENOSPC)
        );
    });
}

#[test]
fn drop_outside_runtime_writes_unflushed_data() {
    let dir = TempDir::new("drop-outside");
    let path = dir.join("d");
    let rt = windlass::Runtime::new().unwrap();
    let file = rt.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"not flushed").await.unwrap();
        file
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"", "still buffered");
    drop(file); // no runtime is current here: written right away
    assert_eq!(std::fs::read(&path).unwrap(), b"not flushed");
}

#[test]
fn drop_inside_runtime_writes_unflushed_data_in_background() {
    let dir = TempDir::new("drop-inside");
    let path = dir.join("d");
    run(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"background").await.unwrap();
        drop(file);
        // The write runs on the pool; wait for it (the deadline only guards
        // against a hang, it is not a speed assertion).
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::read(&path).unwrap() != b"background" {
            assert!(
                Instant::now() < deadline,
                "the dropped File's data never reached the file"
            );
            windlass::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)))
                .await
                .unwrap();
        }
    });
}

#[test]
fn outside_a_runtime_panics_with_the_spawn_blocking_message() {
    let panic = std::panic::catch_unwind(|| {
        futures_lite::future::block_on(fs::read("windlass-no-such-file"))
    })
    .expect_err("fs::read outside a runtime must panic");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains("spawn_blocking called outside a windlass runtime"),
        "{message}"
    );
}

#[test]
fn works_on_current_thread_runtime_and_from_tasks() {
    let dir = TempDir::new("tasks");
    let rt = current();
    let root = dir.path().to_path_buf();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let path = root.join(format!("t{i}"));
                windlass::spawn(async move {
                    let mut file = File::create(&path).await?;
                    file.write_all(format!("task {i}").as_bytes()).await?;
                    file.flush().await?;
                    fs::read_to_string(&path).await
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap().unwrap(), format!("task {i}"));
        }
        assert_eq!(fs::read_dir(&root).await.unwrap().count().await, 16);
    });
}

/// Bytes that report, when dropped, the thread that dropped them and the
/// address of their heap buffer.
struct Tracked {
    bytes: Vec<u8>,
    report: std::sync::mpsc::Sender<(std::thread::ThreadId, usize)>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let _ = self
            .report
            .send((std::thread::current().id(), self.bytes.as_ptr() as usize));
    }
}

#[test]
fn write_moves_its_buffer_to_the_blocking_pool_uncopied() {
    let dir = TempDir::new("write-moves");
    let path = dir.join("f");
    let (report, reports) = std::sync::mpsc::channel();
    let bytes = vec![9u8; 100_000];
    let heap = bytes.as_ptr() as usize;
    run(fs::write(&path, Tracked { bytes, report })).unwrap();
    let (dropped_on, dropped_heap) = reports.recv().unwrap();
    // The very buffer we made, dropped on a pool thread after the write:
    // moved there, not copied (a copy would leave ours to drop here).
    assert_eq!(dropped_heap, heap);
    assert_ne!(dropped_on, std::thread::current().id());
    assert_eq!(std::fs::read(&path).unwrap(), vec![9u8; 100_000]);
}

#[test]
fn try_exists_tells_files_dirs_missing_paths_and_broken_links() {
    let dir = TempDir::new("try-exists");
    run(async {
        assert!(fs::try_exists(dir.path()).await.unwrap());
        assert!(!fs::try_exists(dir.join("missing")).await.unwrap());
        fs::write(dir.join("file"), "x").await.unwrap();
        assert!(fs::try_exists(dir.join("file")).await.unwrap());
        std::os::unix::fs::symlink(dir.join("missing"), dir.join("broken")).unwrap();
        assert!(!fs::try_exists(dir.join("broken")).await.unwrap());
        // A path *through* a file cannot exist, and std says so with an
        // error (ENOTDIR), not `false`.
        let through_file = fs::try_exists(dir.join("file/child")).await;
        assert_eq!(
            through_file.map_err(|e| e.kind()),
            Err(io::ErrorKind::NotADirectory)
        );
    });
}

/// A runtime whose blocking pool has at most one thread.
fn one_blocking_thread_runtime() -> windlass::Runtime {
    windlass::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap()
}

/// A pipe, both ends as `std::fs::File`s.
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// Fills the pipe behind `w` to capacity, so the next write blocks until
/// the reader drains it; returns the bytes written.
fn fill(w: &std::fs::File) -> usize {
    use std::os::fd::AsRawFd;
    let fd = w.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    let mut filled = 0;
    loop {
        match (&*w).write(&[b'.'; 4096]) {
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("fill: {e}"),
        }
    }
    // SAFETY: as above.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
    filled
}

/// Occupies the pool's only thread with a closure that reads the pipe until
/// it has `want` bytes (after `gate`, if given, opens), and returns them.
/// Closures spawned meanwhile wait in the pool's queue. Returns once the
/// closure runs.
fn read_on_the_pool(
    rt: &windlass::Runtime,
    mut r: std::fs::File,
    want: usize,
    gate: Option<std::sync::mpsc::Receiver<()>>,
) -> windlass::task::JoinHandle<Vec<u8>> {
    let (started_tx, started) = std::sync::mpsc::channel();
    let reader = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        if let Some(gate) = gate {
            let _ = gate.recv();
        }
        let mut got = vec![0; want];
        r.read_exact(&mut got).unwrap();
        got
    });
    started.recv().unwrap();
    reader
}

/// A `File` dropped with buffered data hands its write-out to the blocking
/// pool. A runtime dropped before a pool thread takes it used to cancel it,
/// losing data that `write_all` had accepted with `Ok` (and here, the
/// reader waiting for it hung the drop). Now the dropping thread, which
/// waits for the pool anyway, writes it out.
#[test]
fn a_dropped_files_queued_write_out_is_made_by_the_runtimes_drop() {
    crate::support::watchdog(|| {
        for len in [16, BUF] {
            // 16 bytes stay in the buffer until the drop; BUF bytes fill it,
            // so its write-out is in flight (queued) when the file drops.
            let data = vec![b'w'; len];
            let (r, w) = pipe();
            let rt = one_blocking_thread_runtime();
            let reader = read_on_the_pool(&rt, r, len, None);
            rt.block_on(async {
                let mut file = File::from_std(w);
                file.write_all(&data).await.unwrap();
                drop(file); // the write-out waits behind the reader
            });
            drop(rt); // cancels the queued write-out, which writes it here
            let got = futures_lite::future::block_on(reader).unwrap();
            assert_eq!(got, data, "{len} bytes");
        }
    });
}

/// The same with `shutdown_background`, which promises not to wait: the
/// queued write-out goes to a thread of its own. The pipe is full and its
/// reader waits for a gate opened only after `shutdown_background`
/// returned, so a write-out made inline would block it for good; the data
/// must still arrive.
#[test]
fn shutdown_background_does_not_wait_for_a_queued_write_out_nor_lose_it() {
    crate::support::watchdog(|| {
        let (r, w) = pipe();
        let filled = fill(&w);
        let (open, gate) = std::sync::mpsc::channel();
        let rt = one_blocking_thread_runtime();
        let reader = read_on_the_pool(&rt, r, filled + 7, Some(gate));
        rt.block_on(async {
            let mut file = File::from_std(w);
            file.write_all(b"pending").await.unwrap();
            drop(file);
        });
        rt.shutdown_background(); // returns
        open.send(()).unwrap();
        let got = futures_lite::future::block_on(reader).unwrap();
        assert_eq!(&got[filled..], b"pending");
    });
}

/// The same loss without any contrived busy pool: write, drop the file,
/// drop the runtime (an ordinary `fn main` ending), read back. Repeated,
/// because it is a race between a pool thread taking the queued write and
/// the shutdown taking the queue.
#[test]
fn write_drop_file_drop_runtime_repeated_never_loses_data() {
    let dir = TempDir::new("drop-drop-repeat");
    let mut lost = 0;
    for i in 0..300 {
        let path = dir.join(&format!("f{i}"));
        let rt = windlass::Runtime::new().unwrap();
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"0123456789").await.unwrap();
            drop(file);
        });
        drop(rt); // waits for running blocking closures
        if std::fs::read(&path).unwrap() != b"0123456789" {
            lost += 1;
        }
    }
    assert_eq!(
        lost, 0,
        "{lost} of 300 dropped Files lost their data at shutdown"
    );
}
