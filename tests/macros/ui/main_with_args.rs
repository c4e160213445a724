#[windlass::main]
async fn run(port: u16) {}

fn main() {}
