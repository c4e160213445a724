#[windlass::test(start_pasued = true)]
async fn typo() {}

fn main() {}
