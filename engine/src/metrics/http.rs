//! The metrics port: `/metrics` (Prometheus text), `/topology.json` and the dashboard at
//! `/`, served by one tiny_http thread of its own (not pinned, so it never takes a
//! core's CPU from its executor for long).

use super::{collector, topology_json, Metrics};
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
    pub fn serve(self, metrics: Arc<Metrics>) -> Result<(), String> {
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
