//! Wallaroo's external control channel: each message is a frame with a 4-byte big-endian
//! length header (see [`crate::FrameDecoder`]) holding a big-endian `u16` message id and
//! a UTF-8 payload (free text, or JSON in answers). Both directions use it.

use bytes::BytesMut;
use nom::number::complete::be_u16;

/// The largest request (header excluded) the channel accepts, as Wallaroo's.
pub const EXTERNAL_MAX_FRAME: usize = 16 * 1024;
/// The largest answer a client accepts: a state's key list can be long.
pub const EXTERNAL_MAX_ANSWER: usize = 256 * 1024 * 1024;

/// The message ids of Wallaroo's external channel (its numbering from 2018-03 on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
#[allow(missing_docs)]
pub enum ExternalId {
    Print = 1,
    RotateLog = 2,
    CleanShutdown = 3,
    ShrinkRequest = 4,
    ShrinkQueryResponse = 5,
    ShrinkErrorResponse = 6,
    PartitionQuery = 7,
    PartitionQueryResponse = 8,
    ClusterStatusQuery = 9,
    ClusterStatusQueryResponse = 10,
    ClusterStatusQueryResponseNotInitialized = 11,
    PartitionCountQuery = 12,
    PartitionCountQueryResponse = 13,
    SourceIdsQuery = 14,
    SourceIdsQueryResponse = 15,
    ReportStatus = 16,
    StateEntityQuery = 17,
    StateEntityQueryResponse = 18,
    StatelessPartitionQuery = 19,
    StatelessPartitionQueryResponse = 20,
    StateEntityCountQuery = 21,
    StateEntityCountQueryResponse = 22,
    StatelessPartitionCountQuery = 23,
    StatelessPartitionCountQueryResponse = 24,
    ClusterStateEntityCountQuery = 25,
    ClusterStateEntityCountQueryResponse = 26,
}

impl ExternalId {
    /// Every id, in order (index = id - 1).
    pub const ALL: [ExternalId; 26] = [
        ExternalId::Print,
        ExternalId::RotateLog,
        ExternalId::CleanShutdown,
        ExternalId::ShrinkRequest,
        ExternalId::ShrinkQueryResponse,
        ExternalId::ShrinkErrorResponse,
        ExternalId::PartitionQuery,
        ExternalId::PartitionQueryResponse,
        ExternalId::ClusterStatusQuery,
        ExternalId::ClusterStatusQueryResponse,
        ExternalId::ClusterStatusQueryResponseNotInitialized,
        ExternalId::PartitionCountQuery,
        ExternalId::PartitionCountQueryResponse,
        ExternalId::SourceIdsQuery,
        ExternalId::SourceIdsQueryResponse,
        ExternalId::ReportStatus,
        ExternalId::StateEntityQuery,
        ExternalId::StateEntityQueryResponse,
        ExternalId::StatelessPartitionQuery,
        ExternalId::StatelessPartitionQueryResponse,
        ExternalId::StateEntityCountQuery,
        ExternalId::StateEntityCountQueryResponse,
        ExternalId::StatelessPartitionCountQuery,
        ExternalId::StatelessPartitionCountQueryResponse,
        ExternalId::ClusterStateEntityCountQuery,
        ExternalId::ClusterStateEntityCountQueryResponse,
    ];

    /// The id numbered `n`, if it is one.
    pub fn from_u16(n: u16) -> Option<ExternalId> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }
}

/// The id and payload of an external message (a frame's payload); None if it is shorter
/// than an id.
pub fn parse_external(frame: &[u8]) -> Option<(u16, &[u8])> {
    let (payload, id) = be_u16::<_, ()>(frame).ok()?;
    Some((id, payload))
}

/// Appends the frame of external message `id` with `payload` to `out`.
pub fn encode_external(out: &mut BytesMut, id: ExternalId, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32 + 2).to_be_bytes());
    out.extend_from_slice(&(id as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FrameDecoder, Framing, LengthWidth};

    #[test]
    fn a_message_reads_back_through_the_frame_decoder() {
        let mut wire = BytesMut::new();
        encode_external(&mut wire, ExternalId::Print, b"hi");
        assert_eq!(&wire[..], &[0, 0, 0, 4, 0, 1, b'h', b'i']);
        let mut decoder = FrameDecoder::new(
            Framing::LengthPrefixed(LengthWidth::U32),
            EXTERNAL_MAX_FRAME,
        );
        decoder.read_buf().extend_from_slice(&wire);
        let frame = decoder.next_frame().unwrap().unwrap();
        assert_eq!(parse_external(&frame), Some((1, &b"hi"[..])));
        assert_eq!(parse_external(&[0]), None);
    }

    #[test]
    fn ids_are_wallaroos_numbers() {
        for (index, id) in ExternalId::ALL.iter().enumerate() {
            assert_eq!(*id as u16 as usize, index + 1);
            assert_eq!(ExternalId::from_u16(*id as u16), Some(*id));
        }
        assert_eq!(ExternalId::ClusterStatusQuery as u16, 9);
        assert_eq!(ExternalId::StateEntityCountQuery as u16, 21);
        assert_eq!(ExternalId::from_u16(0), None);
        assert_eq!(ExternalId::from_u16(27), None);
    }
}
