#[windlass::main]
fn main() {}
