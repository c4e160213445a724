#[windlass::main(flavor = "single_thread")]
async fn run() {}

fn main() {}
