//! The `--generate words` source: deterministic lines of Zipf-distributed pseudo-words.

use crate::rng::{mix64, Rng};

/// The `--generate words` source: a fixed vocabulary of pronounceable
/// pseudo-words (the same for every seed), ranked by a Zipf(1) distribution;
/// line `i` for seed `s` has 8 to 12 words drawn from an RNG seeded by `(s, i)`.
pub(super) struct Words {
    text: Vec<u8>,
    /// `(start, end)` of each word in `text`, most frequent first.
    words: Vec<(u32, u32)>,
    /// Cumulative probabilities scaled to 2^53.
    cdf: Vec<u64>,
    seed: u64,
}

impl Words {
    const VOCABULARY: usize = 5000;

    pub(super) fn new(seed: u64) -> Words {
        const ONSETS: [&str; 20] = [
            "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
            "st", "tr", "ch",
        ];
        const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ea"];
        // Frequent words are short: 1 syllable first, up to 4 later; one in four ends in
        // one of the first 17 onsets (the single consonants).
        let syllables = |rank: usize| 1..=1 + (rank * 4 / Self::VOCABULARY).min(3) as u64;
        let vocabulary = Rng(0x00C0_FFEE).vocabulary(
            Self::VOCABULARY,
            syllables,
            &ONSETS,
            &VOWELS,
            &ONSETS[..17],
        );
        let mut text = Vec::new();
        let words = vocabulary
            .iter()
            .map(|w| {
                let start = text.len() as u32;
                text.extend_from_slice(w.as_bytes());
                (start, text.len() as u32)
            })
            .collect();
        let total: f64 = (1..=Self::VOCABULARY).map(|k| 1.0 / k as f64).sum();
        let scale = (1u64 << 53) as f64;
        let mut acc = 0.0;
        let cdf = (1..=Self::VOCABULARY)
            .map(|k| {
                acc += 1.0 / k as f64;
                (acc / total * scale) as u64
            })
            .collect();
        Words {
            text,
            words,
            cdf,
            seed,
        }
    }

    /// Appends line `i` (without '\n') to `out`.
    pub(super) fn line(&self, i: u64, out: &mut Vec<u8>) {
        let mut rng = Rng(mix64(self.seed ^ 0x5EED_0000_0000_0000) ^ mix64(i));
        let n = 8 + rng.next() % 5;
        for j in 0..n {
            if j > 0 {
                out.push(b' ');
            }
            let u = rng.next() >> 11;
            let k = self
                .cdf
                .partition_point(|&c| c <= u)
                .min(self.words.len() - 1);
            let (s, e) = self.words[k];
            out.extend_from_slice(&self.text[s as usize..e as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_deterministic_and_zipf_shaped() {
        let w = Words::new(7);
        let mut a = Vec::new();
        let mut b = Vec::new();
        w.line(12345, &mut a);
        Words::new(7).line(12345, &mut b);
        assert_eq!(a, b);
        let n = a.split(|&c| c == b' ').count();
        assert!((8..=12).contains(&n), "{n} words");
        let mut other = Vec::new();
        Words::new(8).line(12345, &mut other);
        assert_ne!(a, other);

        // The most frequent word is far more common than the 100th.
        let mut counts = std::collections::HashMap::new();
        for i in 0..2000 {
            let mut l = Vec::new();
            w.line(i, &mut l);
            for word in l.split(|&c| c == b' ') {
                *counts.entry(word.to_vec()).or_insert(0u32) += 1;
            }
        }
        let (s, e) = w.words[0];
        let top = counts[&w.text[s as usize..e as usize]];
        let (s, e) = w.words[99];
        let hundredth = counts
            .get(&w.text[s as usize..e as usize])
            .copied()
            .unwrap_or(0);
        assert!(top > 10 * hundredth.max(1), "{top} vs {hundredth}");
    }
}
