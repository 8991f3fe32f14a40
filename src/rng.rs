//! SplitMix64, the small deterministic random number generator behind generated data, and
//! the vocabularies of pronounceable pseudo-words drawn with it.
//!
//! `roo send --generate words` uses it; the integration tests (`tests/common`) and the
//! benches (`benches/support`) include this file (`#[path]`) for their test data, so the
//! same seed gives the same data everywhere.

use std::collections::HashSet;
use std::ops::RangeInclusive;

/// SplitMix64: small, fast, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A uniformly chosen item.
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }

    /// `n` distinct words, in the order they were first drawn. Word `k` (counting the
    /// distinct ones before it) has a number of syllables drawn from `syllables(k)`, each an
    /// onset and a vowel; with `codas`, one word in four ends in one of them.
    pub fn vocabulary(
        &mut self,
        n: usize,
        syllables: impl Fn(usize) -> RangeInclusive<u64>,
        onsets: &[&str],
        vowels: &[&str],
        codas: &[&str],
    ) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut words = Vec::with_capacity(n);
        while words.len() < n {
            let range = syllables(words.len());
            let k = range.start() + self.below(range.end() - range.start() + 1);
            let mut w = String::new();
            for _ in 0..k {
                w.push_str(self.pick(onsets));
                w.push_str(self.pick(vowels));
            }
            if !codas.is_empty() && self.below(4) == 0 {
                w.push_str(self.pick(codas));
            }
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        words
    }
}

/// SplitMix64's output function: a well-mixed 64-bit hash of `z`.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
