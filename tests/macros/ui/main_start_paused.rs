// start_paused is for tests: a program that starts with time paused
// would sleep through nothing.
#[windlass::main(start_paused = true)]
async fn run() {}

fn main() {}
