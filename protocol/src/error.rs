//! Errors a decoder can report. Both are fatal for the stream: once the
//! framing is lost there is no reliable way to find the next frame boundary.

/// Why a byte stream could not be cut into frames.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A header (or, in newline mode, an unterminated line) announced more
    /// bytes than the decoder accepts. Reported before the payload is
    /// buffered so a hostile peer cannot make us allocate `size` bytes.
    #[error("frame of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Announced (or, for newline mode, observed) payload size.
        size: u64,
        /// The decoder's `max_frame_size`.
        limit: usize,
    },
    /// A caller-supplied header function (see
    /// [`FrameDecoder::next_frame_with`](crate::FrameDecoder::next_frame_with))
    /// rejected a header.
    #[error("bad frame header: {0}")]
    BadHeader(String),
}
