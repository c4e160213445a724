#[windlass::main(worker_threads = 0)]
async fn run() {}

fn main() {}
