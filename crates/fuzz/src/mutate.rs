//! The mutator: deterministic (a SplitMix64 stream from the seed) stacks of byte, token,
//! line and splice mutations.

use learn::rng::Rng;

/// Bytes that matter to the formats (separators, quotes, brackets, line ends).
const SPECIAL: &[u8] = b"\n\r\t ,;:=+-*.#\"'()[]{}\\/0123456789eE\0\xff";

/// Numbers that break parsers: zeros, limits of `f64`, `i64`, `u64` and `u32`, NaN, infinity.
pub const NUMBERS: [&str; 24] = [
    "0",
    "-0",
    "1",
    "-1",
    "1e308",
    "-1e308",
    "1e-308",
    "4.9e-324",
    "1e309",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "2147483648",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "0.5",
    "1e3",
    "3",
    "1000000",
];

/// Mutates inputs.
pub struct Mutator<'a> {
    rng: Rng,
    dict: &'a [&'a str],
    max_len: usize,
}

impl<'a> Mutator<'a> {
    /// A mutator with its own random stream, a token dictionary and a length cap.
    pub fn new(seed: u64, dict: &'a [&'a str], max_len: usize) -> Self {
        Mutator {
            rng: Rng::new(seed),
            dict,
            max_len: max_len.max(1),
        }
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.below(n)
        }
    }

    fn token(&mut self) -> &'a [u8] {
        if self.dict.is_empty() {
            return b"0";
        }
        self.dict[self.below(self.dict.len())].as_bytes()
    }

    /// A mutant of `base`: 1 to 16 stacked mutations (fewer more often); `other` is a second
    /// corpus entry for splices.
    pub fn mutate(&mut self, base: &[u8], other: &[u8]) -> Vec<u8> {
        let mut v = base.to_vec();
        let n = 1 << self.below(5);
        for _ in 0..self.below(n) + 1 {
            self.once(&mut v, other);
        }
        v.truncate(self.max_len);
        v
    }

    /// A random position in `0..=len`.
    fn pos(&mut self, len: usize) -> usize {
        self.below(len + 1)
    }

    /// A random range of `v` of up to `max` bytes.
    fn range(&mut self, len: usize, max: usize) -> (usize, usize) {
        let a = self.below(len);
        let n = 1 + self.below(max.min(len - a).max(1));
        (a, (a + n).min(len))
    }

    /// Start and end (after the `\n`) of the line holding byte `at`.
    fn line_at(v: &[u8], at: usize) -> (usize, usize) {
        let start = v[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = v[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(v.len(), |i| at + i + 1);
        (start, end)
    }

    fn once(&mut self, v: &mut Vec<u8>, other: &[u8]) {
        let len = v.len();
        match self.below(14) {
            // flip a bit
            0 if len > 0 => {
                let i = self.below(len);
                v[i] ^= 1 << self.below(8);
            }
            // a random byte
            1 if len > 0 => {
                let i = self.below(len);
                v[i] = self.rng.next_u64() as u8;
            }
            // a special byte, replaced or inserted
            2 => {
                let b = SPECIAL[self.below(SPECIAL.len())];
                if len > 0 && self.below(2) == 0 {
                    let i = self.below(len);
                    v[i] = b;
                } else {
                    let i = self.pos(len);
                    v.insert(i, b);
                }
            }
            // delete a range
            3 if len > 0 => {
                let max = if self.below(4) == 0 { 256 } else { 8 };
                let (a, b) = self.range(len, max);
                v.drain(a..b);
            }
            // insert random bytes
            4 => {
                let i = self.pos(len);
                let n = 1 + self.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.next_u64() as u8).collect();
                v.splice(i..i, bytes);
            }
            // duplicate a range somewhere
            5 if len > 0 => {
                let (a, b) = self.range(len, 64);
                let chunk = v[a..b].to_vec();
                let i = self.pos(len);
                v.splice(i..i, chunk);
            }
            // insert a token (twice as often as other mutations)
            6 | 7 => {
                let t = self.token();
                let i = self.pos(len);
                v.splice(i..i, t.iter().copied());
            }
            // overwrite with a token
            8 if len > 0 => {
                let t = self.token();
                let i = self.below(len);
                let end = (i + t.len()).min(len);
                v.splice(i..end, t.iter().copied());
            }
            // splice: a prefix of this one and a suffix of the other
            9 if !other.is_empty() => {
                let i = self.pos(len);
                let j = self.below(other.len());
                v.truncate(i);
                v.extend_from_slice(&other[j..]);
            }
            // insert a piece of the other entry
            10 if !other.is_empty() => {
                let (a, b) = self.range(other.len(), 128);
                let i = self.pos(len);
                v.splice(i..i, other[a..b].iter().copied());
            }
            // line operations: duplicate, delete, move
            11 if len > 0 => {
                let (a, b) = Self::line_at(v, self.below(len));
                let line = v[a..b].to_vec();
                match self.below(3) {
                    0 => {
                        v.splice(a..a, line);
                    }
                    1 => {
                        v.drain(a..b);
                    }
                    _ => {
                        v.drain(a..b);
                        let at = self.pos(v.len());
                        let (s, _) = if at < v.len() {
                            Self::line_at(v, at)
                        } else {
                            (v.len(), v.len())
                        };
                        v.splice(s..s, line);
                    }
                }
            }
            // replace a number (a run of digits, signs, dots and exponents) with another
            12 if len > 0 => {
                let start = self.below(len);
                let Some(d) = v[start..].iter().position(|b| b.is_ascii_digit()) else {
                    return;
                };
                let a = start + d;
                let num = |b: &u8| b.is_ascii_digit() || b"+-.eE".contains(b);
                let b = v[a..].iter().position(|b| !num(b)).map_or(len, |k| a + k);
                let new: Vec<u8> = match self.below(3) {
                    0 => NUMBERS[self.below(NUMBERS.len())].as_bytes().to_vec(),
                    1 => (self.rng.next_u64() >> self.below(64))
                        .to_string()
                        .into_bytes(),
                    _ => {
                        let old = String::from_utf8_lossy(&v[a..b])
                            .parse::<f64>()
                            .unwrap_or(1.0);
                        let k = [0.0, -1.0, 2.0, 0.5, 1e6, 1e-6, 10.0][self.below(7)];
                        format!("{}", old * k).into_bytes()
                    }
                };
                v.splice(a..b, new);
            }
            // truncate
            13 if len > 0 => {
                let i = self.below(len);
                v.truncate(i);
            }
            _ => {
                let t = self.token();
                let i = self.pos(len);
                v.splice(i..i, t.iter().copied());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_bounded() {
        let dict = ["abc", "\n"];
        let run = |seed| {
            let mut m = Mutator::new(seed, &dict, 100);
            let mut v = b"R1 a 0 1k\nV1 a 0 1\n".to_vec();
            let mut all = Vec::new();
            for _ in 0..2000 {
                v = m.mutate(&v, b"other input\n");
                assert!(v.len() <= 100);
                all.push(v.clone());
            }
            all
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        // Mutations reach the empty input and grow from it.
        let mut m = Mutator::new(3, &dict, 100);
        assert!((0..100).any(|_| !m.mutate(b"", b"").is_empty()));
    }
}
