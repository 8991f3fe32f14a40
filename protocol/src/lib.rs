//! Roo's framing layer.
//!
//! Bytes arriving from a TCP socket, split at arbitrary points, are cut into
//! complete frames by a [`FrameDecoder`]; frames are turned back into bytes by
//! [`encode_frame`], [`encode_line`] and [`encode_header`]. Three framings
//! are supported (see [`Framing`]): a big-endian length header of 2, 4 or 8
//! bytes, newline-terminated lines, and raw chunks.
//!
//! Decoded payloads are [`bytes::Bytes`] views split off the decoder's read
//! buffer, so handing a frame to the engine never copies it. Every frame is
//! bounded by a maximum size that is checked as soon as a header is seen, so
//! a corrupt or hostile peer cannot make the decoder buffer arbitrary amounts
//! of data.
//!
//! ```
//! use bytes::BytesMut;
//! use protocol::{encode_frame, FrameDecoder, Framing, LengthWidth, DEFAULT_MAX_FRAME_SIZE};
//!
//! let mut wire = BytesMut::new();
//! encode_frame(&mut wire, LengthWidth::U32, b"hello");
//!
//! let mut dec = FrameDecoder::new(Framing::LengthPrefixed(LengthWidth::U32), DEFAULT_MAX_FRAME_SIZE);
//! dec.read_buf().extend_from_slice(&wire[..3]); // a partial header
//! assert_eq!(dec.next_frame().unwrap(), None);
//! dec.read_buf().extend_from_slice(&wire[3..]);
//! assert_eq!(dec.next_frame().unwrap().as_deref(), Some(&b"hello"[..]));
//! ```

#![warn(missing_docs)]

mod decoder;
mod encoder;
mod error;
pub mod external;
mod framing;
mod header;

pub use decoder::{FrameDecoder, READ_CHUNK};
pub use encoder::{encode_frame, encode_header, encode_line};
pub use error::FrameError;
pub use framing::{Framing, DEFAULT_MAX_FRAME_SIZE};
pub use header::{parse_header, LengthWidth};
