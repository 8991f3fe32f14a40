//! The messages `roo send` sends: message `i` of the input files (lines, fixed-size
//! records or records behind their own length headers), of the word generator, or of
//! giles sender's count.

use super::words::Words;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where messages come from. Message `i` is a pure function of `i`, so each
/// connection thread produces its own share independently.
pub(super) enum Source {
    /// Lines, or records behind their own length header, of the input files: message
    /// `k` is `data[starts[k]..starts[k + 1] - trailer]` (every line, the last included,
    /// is stored with its '\n').
    Spans {
        data: Vec<u8>,
        starts: Vec<usize>,
        /// Bytes at the end of each span that are not sent: 1 for lines, stored with
        /// their '\n'; 0 for records behind their own length header, sent whole.
        trailer: usize,
    },
    /// Fixed-size records.
    Records { data: Vec<u8>, size: usize },
    /// Generated words.
    Words(Words),
    /// giles sender's numbers: message `i` is `first + i`, as decimal text or as 8
    /// big-endian bytes.
    Count { first: u64, binary: bool },
}

impl Source {
    /// Messages before the source repeats (`None`: endless).
    pub(super) fn len(&self) -> Option<u64> {
        match self {
            Source::Spans { starts, .. } => Some(starts.len() as u64 - 1),
            Source::Records { data, size } => Some((data.len() / size) as u64),
            Source::Words(_) | Source::Count { .. } => None,
        }
    }

    /// Payload of message `i` (taken modulo the source's length).
    #[inline]
    pub(super) fn payload<'a>(&'a self, i: u64, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        match self {
            Source::Spans {
                data,
                starts,
                trailer,
            } => {
                let k = (i % (starts.len() as u64 - 1)) as usize;
                &data[starts[k]..starts[k + 1] - trailer]
            }
            Source::Records { data, size } => {
                let n = (data.len() / size) as u64;
                let k = (i % n) as usize;
                &data[k * size..(k + 1) * size]
            }
            Source::Words(w) => {
                scratch.clear();
                w.line(i, scratch);
                scratch
            }
            Source::Count { first, binary } => {
                let n = first.wrapping_add(i);
                scratch.clear();
                if *binary {
                    scratch.extend_from_slice(&n.to_be_bytes());
                } else {
                    write!(scratch, "{n}").expect("writing to a Vec");
                }
                scratch
            }
        }
    }
}

fn read_input(file: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

/// One message per line of `files`, one file after the other. Empty lines are skipped, as
/// giles sender skipped zero-length lines, unless `keep_empty`.
pub(super) fn load_lines(files: &[PathBuf], keep_empty: bool) -> Result<Source, String> {
    let mut data = Vec::new();
    let mut starts = vec![0];
    for f in files {
        let bytes = read_input(f)?;
        if bytes.is_empty() {
            continue;
        }
        let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        for line in text.split(|&b| b == b'\n') {
            if line.is_empty() && !keep_empty {
                continue;
            }
            data.extend_from_slice(line);
            data.push(b'\n');
            starts.push(data.len());
        }
    }
    Ok(Source::Spans {
        data,
        starts,
        trailer: 1,
    })
}

pub(super) fn load_records(files: &[PathBuf], size: usize) -> Result<Source, String> {
    if size == 0 {
        return Err("--msg-size must be at least 1".into());
    }
    let mut data = Vec::new();
    for f in files {
        let bytes = read_input(f)?;
        if bytes.len() % size != 0 {
            return Err(format!(
                "{} has {} bytes, not a whole number of {size}-byte records",
                f.display(),
                bytes.len()
            ));
        }
        data.extend_from_slice(&bytes);
    }
    Ok(Source::Records { data, size })
}

/// Records each behind its own 4-byte big-endian length header, as giles sender's
/// `--binary --variable-size` read them.
pub(super) fn load_framed_records(files: &[PathBuf]) -> Result<Source, String> {
    let mut data = Vec::new();
    let mut starts = vec![0];
    for f in files {
        let bytes = read_input(f)?;
        let mut at = 0;
        while at < bytes.len() {
            let header = bytes.get(at..at + 4).ok_or_else(|| {
                format!("{}: a length header cut short at byte {at}", f.display())
            })?;
            let length = u32::from_be_bytes(header.try_into().expect("4 bytes")) as usize;
            let end = at + 4 + length;
            if end > bytes.len() {
                return Err(format!(
                    "{}: the record at byte {at} says {length} bytes, but the file ends first",
                    f.display()
                ));
            }
            data.extend_from_slice(&bytes[at..end]);
            starts.push(data.len());
            at = end;
        }
    }
    Ok(Source::Spans {
        data,
        starts,
        trailer: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_source_keeps_every_line_in_order_and_skips_empty_ones() {
        let dir = std::env::temp_dir().join(format!("roo-send-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f1 = dir.join("a");
        let f2 = dir.join("b");
        std::fs::write(&f1, b"one\n\nthree").unwrap();
        std::fs::write(&f2, b"four\n").unwrap();
        let s = load_lines(&[f1.clone(), f2.clone()], true).unwrap();
        let mut scratch = Vec::new();
        let got: Vec<Vec<u8>> = (0..5)
            .map(|i| s.payload(i, &mut scratch).to_vec())
            .collect();
        assert_eq!(s.len(), Some(4));
        assert_eq!(got, [&b"one"[..], b"", b"three", b"four", b"one"]);
        let s = load_lines(&[f1, f2], false).unwrap();
        let got: Vec<Vec<u8>> = (0..4)
            .map(|i| s.payload(i, &mut scratch).to_vec())
            .collect();
        assert_eq!(s.len(), Some(3));
        assert_eq!(got, [&b"one"[..], b"three", b"four", b"one"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
