#[windlass::main(threads = 4)]
async fn run() {}

fn main() {}
