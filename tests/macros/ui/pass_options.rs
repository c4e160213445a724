// Every option that needs no other branch, in the places a user puts them.
#[windlass::main(flavor = "current_thread")]
async fn on_this_thread() -> u32 {
    windlass::spawn(async { 1 }).await.unwrap()
}

#[windlass::main(flavor = "multi_thread", worker_threads = 2)]
async fn on_two_workers() -> Result<usize, std::io::Error> {
    Ok(windlass::Handle::current().num_workers())
}

#[windlass::main]
async fn main() {
    // The expansion is a plain fn: calling one inside a runtime would
    // nest block_on, so these run on plain threads.
    let a = std::thread::spawn(on_this_thread).join().unwrap();
    let b = std::thread::spawn(on_two_workers).join().unwrap().unwrap();
    assert_eq!((a, b), (1, 2));
}
