//! `roo external`: sends one message on Wallaroo's external control channel, as
//! Wallaroo's `external_sender` did (same flags and output), and for a query prints the
//! answer.

use bytes::BytesMut;
use clap::Args;
use protocol::external::{encode_external, parse_external, ExternalId, EXTERNAL_MAX_ANSWER};
use protocol::{FrameDecoder, Framing, LengthWidth};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ExternalArgs {
    /// Where the channel listens (`roo run --external HOST:PORT`).
    #[arg(long, short = 'e', value_name = "HOST:PORT")]
    external: String,
    /// What to send: print, clean-shutdown, cluster-status-query, partition-query,
    /// partition-count-query, source-ids-query, state-entity-query,
    /// state-entity-count-query, stateless-partition-query,
    /// stateless-partition-count-query, cluster-state-entity-count-query, rotate-log,
    /// boundary-count-status (any other word: print, as external_sender did).
    #[arg(
        long = "type",
        short = 't',
        default_value = "print",
        value_name = "TYPE"
    )]
    kind: String,
    /// The text of print, clean-shutdown and rotate-log.
    #[arg(long, short = 'm', default_value = "")]
    message: String,
    /// Print answers as the JSON received, without headings.
    #[arg(long, short = 'j')]
    json: bool,
    /// Seconds to wait for an answer (external_sender waited for ever).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// The message a `--type` sends, and whether an answer comes.
fn message_of(kind: &str, message: &str) -> (ExternalId, String, bool) {
    let query = |id| (id, String::new(), true);
    match kind.to_lowercase().as_str() {
        "rotate-log" => (ExternalId::RotateLog, message.to_string(), false),
        "clean-shutdown" => (ExternalId::CleanShutdown, message.to_string(), false),
        "boundary-count-status" => (
            ExternalId::ReportStatus,
            "boundary-count-status".to_string(),
            false,
        ),
        "partition-query" => query(ExternalId::PartitionQuery),
        "cluster-status-query" => query(ExternalId::ClusterStatusQuery),
        "partition-count-query" => query(ExternalId::PartitionCountQuery),
        "source-ids-query" => query(ExternalId::SourceIdsQuery),
        "state-entity-query" => query(ExternalId::StateEntityQuery),
        "stateless-partition-query" => query(ExternalId::StatelessPartitionQuery),
        "state-entity-count-query" => query(ExternalId::StateEntityCountQuery),
        "stateless-partition-count-query" => query(ExternalId::StatelessPartitionCountQuery),
        "cluster-state-entity-count-query" => query(ExternalId::ClusterStateEntityCountQuery),
        _ => (ExternalId::Print, message.to_string(), false),
    }
}

/// What external_sender printed for an answer (`json`: the payload alone).
fn render(id: u16, payload: &str, json: bool) -> Result<String, String> {
    let heading = match ExternalId::from_u16(id) {
        Some(ExternalId::PartitionQueryResponse) => "Partition Distribution:",
        Some(ExternalId::PartitionCountQueryResponse) => "Partition Distribution (counts):",
        Some(ExternalId::StateEntityQueryResponse) => "State Entity Distribution:",
        Some(ExternalId::StatelessPartitionQueryResponse) => "Stateless Partition Distribution:",
        Some(ExternalId::StateEntityCountQueryResponse) => "State Entity Count:",
        Some(ExternalId::StatelessPartitionCountQueryResponse) => "Stateless Partition Count:",
        Some(ExternalId::ClusterStateEntityCountQueryResponse) => "Cluster State Entity Count:",
        Some(ExternalId::ClusterStatusQueryResponseNotInitialized) => {
            return Ok(match json {
                true => "{\"processing_messages\": false}".into(),
                false => "Cluster Status:\nCluster not yet initialized\nProcessing messages: false"
                    .into(),
            });
        }
        Some(ExternalId::ClusterStatusQueryResponse) if !json => {
            let status: serde_json::Value =
                serde_json::from_str(payload).map_err(|_| "Received invalid message")?;
            let workers: String = status["worker_names"]
                .as_array()
                .map(|names| {
                    names
                        .iter()
                        .map(|n| format!("{},", n.as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            return Ok(format!(
                "Cluster Status:\nProcessing messages: {}, Worker count: {}, Workers: |{workers}|",
                status["processing_messages"], status["worker_count"]
            ));
        }
        Some(ExternalId::SourceIdsQueryResponse) if !json => {
            let ids: serde_json::Value =
                serde_json::from_str(payload).map_err(|_| "Received invalid message")?;
            let joined: String = ids["source_ids"]
                .as_array()
                .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
                .unwrap_or_default();
            return Ok(format!("Source Ids:\n{joined}"));
        }
        Some(ExternalId::ClusterStatusQueryResponse | ExternalId::SourceIdsQueryResponse) => "",
        _ => return Err("Received unhandled external message type".into()),
    };
    Ok(match json || heading.is_empty() {
        true => payload.to_string(),
        false => format!("{heading}\n{payload}"),
    })
}

/// Reads one answer (id, payload) from `stream`.
fn read_answer(stream: &mut TcpStream) -> Result<(u16, String), String> {
    let mut decoder = FrameDecoder::new(
        Framing::LengthPrefixed(LengthWidth::U32),
        EXTERNAL_MAX_ANSWER,
    );
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(frame) = decoder.next_frame().map_err(|e| e.to_string())? {
            let (id, payload) = parse_external(&frame).ok_or("Received invalid message")?;
            return Ok((id, String::from_utf8_lossy(payload).into_owned()));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err("the channel closed without answering".into()),
            Ok(n) => decoder.read_buf().extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("no answer: {e}")),
        }
    }
}

pub fn main(args: ExternalArgs) -> ExitCode {
    let (id, payload, answered) = message_of(&args.kind, &args.message);
    let mut stream = match TcpStream::connect(&args.external) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("Failed to connect to {}: {e}", args.external);
            return ExitCode::FAILURE;
        }
    };
    if !args.json {
        println!("Connected...");
    }
    let mut frame = BytesMut::new();
    encode_external(&mut frame, id, payload.as_bytes());
    if let Err(e) = stream.write_all(&frame) {
        eprintln!("Error sending: {e}");
        return ExitCode::FAILURE;
    }
    if !answered {
        return ExitCode::SUCCESS;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(args.timeout.max(1))));
    match read_answer(&mut stream).and_then(|(id, payload)| render(id, &payload, args.json)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{why}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_send_wallaroos_ids_and_answers_print_as_external_sender_did() {
        assert_eq!(
            message_of("Cluster-Status-Query", "").0,
            ExternalId::ClusterStatusQuery
        );
        assert_eq!(
            message_of("no-such-type", "hi"),
            (ExternalId::Print, "hi".into(), false)
        );
        let status =
            r#"{"worker_count":1,"worker_names":["initializer"],"processing_messages":true}"#;
        assert_eq!(
            render(10, status, false).unwrap(),
            "Cluster Status:\nProcessing messages: true, Worker count: 1, Workers: |initializer,|"
        );
        assert_eq!(render(10, status, true).unwrap(), status);
        assert_eq!(
            render(15, r#"{"source_ids":["0","1"]}"#, false).unwrap(),
            "Source Ids:\n01"
        );
        assert_eq!(
            render(22, r#"{"a":2}"#, false).unwrap(),
            "State Entity Count:\n{\"a\":2}"
        );
        assert!(render(3, "", false).is_err());
    }
}
