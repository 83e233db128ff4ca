//! Paste text for the memory measurements, shared by `examples/bench_memory.rs` and
//! `tests/it/memory.rs` (each includes this file with `#[path]`).

/// Text of `len` bytes that looks like source code: lines of varied words (so it needs JSON
/// escapes and compresses about as well as code does), different for each `seed`.
pub fn text(len: usize, seed: u64) -> String {
    const WORDS: &str = "let fn match self value => { } ( ) return \"quoted\" if else for in 0x7f Some None \\path tab\t &mut 42";
    let words: Vec<&str> = WORDS.split(' ').collect();
    let mut s = String::with_capacity(len + 64);
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while s.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (x >> 33) as usize;
        s.push_str(words[r % words.len()]);
        if r.is_multiple_of(7) {
            s.push_str(&format!(" v{}", r % 100_000));
        }
        s.push(if r.is_multiple_of(9) { '\n' } else { ' ' });
    }
    s.truncate(len);
    s
}
