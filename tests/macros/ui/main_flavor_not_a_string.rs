#[windlass::main(flavor = current_thread)]
async fn run() {}

fn main() {}
