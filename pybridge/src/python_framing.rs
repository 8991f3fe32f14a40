//! Frames whose header the app's decoder reads: `payload_length(header)` is called for
//! every header that is not a plain big-endian length (see `HeaderDecoding`).

use crate::subinterpreter::{discard, error_text, PyObj};
use bytes::Bytes;
use protocol::{FrameDecoder, FrameError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Cuts every complete frame out of `decoder` into `frames`, asking `payload_length` for
/// the length each `header_length`-byte header announces.
pub fn take_frames(
    py: Python<'_>,
    payload_length: &PyObj,
    header_length: usize,
    decoder: &mut FrameDecoder,
    frames: &mut Vec<Bytes>,
) -> Result<(), FrameError> {
    let mut ask = |header: &[u8]| match payload_length.bind(py).call1((PyBytes::new(py, header),)) {
        Ok(n) => n.extract::<usize>().map_err(|e| {
            discard(py, e);
            format!("payload_length() returned {n}, not a length")
        }),
        Err(e) => Err(format!("payload_length() raised:\n{}", error_text(py, e))),
    };
    while let Some(frame) = decoder.next_frame_with(header_length, &mut ask)? {
        frames.push(frame);
    }
    Ok(())
}
