//! The metrics port: `/metrics` (Prometheus text), `/topology.json`, the dashboard at
//! `/`, and `/state/STATE/KEY` (one state partition as JSON, asked of the core that owns
//! it), served by one tiny_http thread of its own (not pinned, so it never takes a
//! core's CPU from its executor for long).

use super::{collector, topology_json, Metrics};
use crate::control::StateQueries;
use std::sync::Arc;
use tiny_http::{Header, Response, Server};

/// The dashboard page: plain HTML with its script and style inline (works offline).
const DASHBOARD: &str = include_str!("dashboard.html");

/// A bound metrics port, not yet serving (it is bound before the cores start, so a port
/// in use is a start-up error).
pub struct MetricsServer {
    server: Server,
}

impl MetricsServer {
    pub fn bind(address: &str) -> Result<MetricsServer, String> {
        let server = Server::http(address)
            .map_err(|error| format!("cannot listen on {address} for --metrics-listen: {error}"))?;
        Ok(MetricsServer { server })
    }

    /// The bound address (the port, when 0 was asked for).
    pub fn address(&self) -> String {
        self.server.server_addr().to_string()
    }

    /// Serves on a thread of its own until the process exits.
    pub fn serve(self, metrics: Arc<Metrics>, queries: StateQueries) -> Result<(), String> {
        std::thread::Builder::new()
            .name("roo-metrics".into())
            .spawn(move || {
                let registry = collector::registry(metrics.clone());
                for request in self.server.incoming_requests() {
                    let path = request.url().split('?').next().unwrap_or("");
                    let (body, kind, status) = match path {
                        "/metrics" => {
                            let mut text = String::new();
                            match prometheus_client::encoding::prometheus_text::encode(
                                &mut text, &registry,
                            ) {
                                Ok(()) => (text, "text/plain; version=0.0.4", 200),
                                Err(_) => ("encoding failed\n".into(), "text/plain", 500),
                            }
                        }
                        "/topology.json" => (
                            topology_json::render(&metrics.topology, metrics.cores.len()),
                            "application/json",
                            200,
                        ),
                        "/" | "/index.html" => {
                            (DASHBOARD.to_string(), "text/html; charset=utf-8", 200)
                        }
                        _ if path.starts_with("/state/") => state(&queries, &path[7..]),
                        _ => ("not found\n".into(), "text/plain", 404),
                    };
                    let header = Header::from_bytes("Content-Type", kind).expect("valid header");
                    let response = Response::from_string(body)
                        .with_header(header)
                        .with_status_code(status);
                    let _ = request.respond(response);
                }
            })
            .map(|_| ())
            .map_err(|error| format!("cannot start the metrics thread: {error}"))
    }
}

/// `/state/STATE/KEY` (both percent-encoded): the partition's state as JSON; 404 with an
/// error object when there is no such state or partition, 503 when its core does not
/// answer.
fn state(queries: &StateQueries, rest: &str) -> (String, &'static str, u16) {
    let error = |status: u16, text: String| {
        let body = model::json::object([("error", model::json::quoted(&text))]);
        (body, "application/json", status)
    };
    let Some((state, key)) = rest.split_once('/') else {
        return error(404, "ask for /state/STATE/KEY".into());
    };
    let (state, key) = (percent_decoded(state), percent_decoded(key));
    match queries.state_json(&state, &key) {
        Ok(Some(json)) => (json, "application/json", 200),
        Ok(None) => error(404, format!("state '{state}' has no partition '{key}'")),
        Err(why) if why.starts_with("the app has no state") => error(404, why),
        Err(why) => error(503, why),
    }
}

/// `text` (a URL path segment) with its `%XX` escapes decoded; invalid UTF-8 replaced.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(super::percent_decoded("word%20totals"), "word totals");
        assert_eq!(super::percent_decoded("%C3%A9lan+x%2"), "élan+x%2");
        assert_eq!(super::percent_decoded("%+1"), "%+1");
    }
}
