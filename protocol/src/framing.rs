//! The framing modes a connection can be configured with.

use crate::header::LengthWidth;

/// Default upper bound on a single payload: large enough for any sane
/// message, small enough that a corrupt header cannot exhaust memory.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 * 1024 * 1024;

/// How a byte stream is cut into frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A header of the given width holding the payload length (big-endian),
    /// then the payload.
    LengthPrefixed(LengthWidth),
    /// Each frame ends with `b'\n'` (the `'\n'` is not part of the payload;
    /// a trailing `'\r'` is kept as-is).
    Newline,
    /// Every chunk of bytes as it arrives is one frame (chunks larger than
    /// the decoder's `max_frame_size` are cut into several frames).
    Raw,
}
