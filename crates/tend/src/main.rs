//! The `tend` command.
fn main() {}
