//! `/metrics`: the Prometheus text exposition of one [`Reading`], written by a
//! prometheus-client `Collector` at scrape time. Every figure is per core (label `core`);
//! Prometheus sums cores, pipelines and steps with `sum by (...)`.

use super::{process, Metrics, Reading};
use model::counters::{LatencyFigures, LATENCY_BOUNDS_NS};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::fmt;
use std::sync::Arc;

type Labels = Vec<(&'static str, String)>;

/// The registry a scrape encodes: roo's collector under the `roo_` prefix.
pub fn registry(metrics: Arc<Metrics>) -> Registry {
    let mut registry = Registry::with_prefix("roo");
    registry.register_collector(Box::new(RooCollector { metrics }));
    registry
}

struct RooCollector {
    metrics: Arc<Metrics>,
}

impl fmt::Debug for RooCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RooCollector")
    }
}

impl Collector for RooCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let reading = self.metrics.read();
        let families = Families {
            metrics: &self.metrics,
            reading: &reading,
        };
        families.sources(&mut encoder)?;
        families.steps(&mut encoder)?;
        families.routing(&mut encoder)?;
        families.sinks(&mut encoder)?;
        families.errors(&mut encoder)?;
        families.latency(&mut encoder)?;
        process_figures(&mut encoder)
    }
}

struct Families<'a> {
    metrics: &'a Metrics,
    reading: &'a Reading,
}

impl Families<'_> {
    fn sources(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        type Field = fn(&model::counters::SourceFigures) -> u64;
        let families: [(&str, &str, Field); 4] = [
            (
                "source_frames",
                "Frames (or Kafka records) a source brought in.",
                |s| s.frames,
            ),
            ("source_bytes", "Bytes a source's connections read.", |s| {
                s.bytes
            }),
            (
                "messages_in",
                "Messages a source's decoder (or generator) made.",
                |s| s.messages_in,
            ),
            (
                "messages_out",
                "Outputs handed to sinks, by the source their message came in by.",
                |s| s.messages_out,
            ),
        ];
        for (name, help, field) in families {
            let rows = self.per_source(|core, source| field(&core.sources[source]));
            family(encoder, name, help, MetricType::Counter, rows)?;
        }
        Ok(())
    }

    /// One row per core and source, labelled with the source's pipeline and name.
    fn per_source(
        &self,
        value: impl Fn(&model::counters::CoreFigures, usize) -> u64,
    ) -> Vec<(Labels, u64)> {
        let topology = &self.metrics.topology;
        let mut rows = vec![];
        for core in &self.reading.cores {
            for (source, spec) in topology.sources.iter().enumerate() {
                let labels = vec![
                    ("pipeline", self.metrics.pipeline_of(source).to_string()),
                    ("source", spec.name.clone()),
                    ("core", core.figures.core.to_string()),
                ];
                rows.push((labels, value(&core.figures, source)));
            }
        }
        rows
    }

    fn steps(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let topology = &self.metrics.topology;
        let mut rows = vec![];
        for core in &self.reading.cores {
            for (chain, spec) in topology.chains.iter().enumerate() {
                for (step, step_spec) in spec.steps.iter().enumerate() {
                    let labels = vec![
                        ("pipeline", spec.name.clone()),
                        ("step", step_spec.name.clone()),
                        ("core", core.figures.core.to_string()),
                    ];
                    rows.push((labels, core.figures.steps[chain][step]));
                }
            }
        }
        let help = "Messages a step ran.";
        family(encoder, "step_messages", help, MetricType::Counter, rows)
    }

    fn routing(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        type Field = fn(&super::CoreReading) -> u64;
        let families: [(&str, &str, MetricType, Field); 6] = [
            (
                "routed_in",
                "Messages other cores routed here that this core ran.",
                MetricType::Counter,
                |c| c.figures.routed_in,
            ),
            (
                "routed_out",
                "Messages routed to other cores (state steps of keys they own, parallel steps).",
                MetricType::Counter,
                |c| c.figures.routed_out,
            ),
            (
                "parallel_handed_over",
                "Of routed_out: messages whose parallel step another core ran (this one was behind).",
                MetricType::Counter,
                |c| c.figures.handed_over,
            ),
            (
                "none_outputs",
                "None items of compute_multi lists, skipped.",
                MetricType::Counter,
                |c| c.figures.none_outputs,
            ),
            (
                "source_pauses",
                "Times a source of this core waited for room (sinks or outboxes over their high-water mark, a core far behind, a commit point).",
                MetricType::Counter,
                |c| c.figures.source_pauses,
            ),
            (
                "backlog_messages",
                "Routed messages sent to this core and not yet run.",
                MetricType::Gauge,
                |c| c.backlog,
            ),
        ];
        for (name, help, kind, field) in families {
            let rows = self
                .reading
                .cores
                .iter()
                .map(|core| (vec![("core", core.figures.core.to_string())], field(core)))
                .collect();
            family(encoder, name, help, kind, rows)?;
        }
        Ok(())
    }

    fn sinks(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        type Field = fn(&model::counters::SinkFigures) -> u64;
        let (_, addresses) = self.metrics.topology.sink_connections();
        let families: [(&str, &str, MetricType, Field); 3] = [
            (
                "sink_pending_bytes",
                "Encoded bytes queued for a sink and not yet written (Kafka: not yet handed to the producer).",
                MetricType::Gauge,
                |s| s.pending,
            ),
            (
                "sink_congestion_pauses",
                "Times a sink's queue went over its high-water mark (the core's input then waits).",
                MetricType::Counter,
                |s| s.pauses,
            ),
            (
                "sink_reconnects",
                "Times a sink connection was lost and connected again.",
                MetricType::Counter,
                |s| s.reconnects,
            ),
        ];
        for (name, help, kind, field) in families {
            let mut rows = vec![];
            for core in &self.reading.cores {
                for (address, sink) in addresses.iter().zip(&core.figures.sinks) {
                    let labels = vec![
                        ("sink", address.clone()),
                        ("core", core.figures.core.to_string()),
                    ];
                    rows.push((labels, field(sink)));
                }
            }
            family(encoder, name, help, kind, rows)?;
        }
        Ok(())
    }

    fn errors(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let mut rows = vec![];
        for core in &self.reading.cores {
            for (place, count) in &core.figures.errors {
                let labels = vec![
                    ("place", place.clone()),
                    ("core", core.figures.core.to_string()),
                ];
                rows.push((labels, *count));
            }
        }
        let help = "Errors (messages dropped) by place: a step, a decoder, an encoder, a source connection.";
        family(encoder, "errors", help, MetricType::Counter, rows)
    }

    fn latency(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let help = "Ingest to sink latency: from the read that brought a message in to the end of the batch that handed its output to the sink queue.";
        let mut descriptor = encoder.encode_descriptor(
            "ingest_to_sink_latency",
            help,
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for core in &self.reading.cores {
            for (source, spec) in self.metrics.topology.sources.iter().enumerate() {
                let labels = vec![
                    ("pipeline", self.metrics.pipeline_of(source).to_string()),
                    ("source", spec.name.clone()),
                    ("core", core.figures.core.to_string()),
                ];
                let latency = &core.figures.sources[source].latency;
                let buckets = histogram_buckets(latency);
                descriptor
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(
                        latency.sum_ns as f64 / 1e9,
                        latency.count(),
                        &buckets,
                        None,
                    )?;
            }
        }
        Ok(())
    }
}

/// (upper bound in seconds, count in that bucket), the last bucket's bound +Inf.
fn histogram_buckets(latency: &LatencyFigures) -> Vec<(f64, u64)> {
    let bounds = LATENCY_BOUNDS_NS
        .iter()
        .map(|&ns| ns as f64 / 1e9)
        .chain([f64::INFINITY]);
    bounds.zip(latency.buckets).collect()
}

/// One metric family of integer samples. A name ending in `_bytes` is given the unit
/// bytes (the encoder then appends `_bytes` itself, and `_total` to counters).
fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    rows: Vec<(Labels, u64)>,
) -> fmt::Result {
    let unit = name.ends_with("_bytes").then_some(Unit::Bytes);
    let name = name.strip_suffix("_bytes").unwrap_or(name);
    let mut descriptor = encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
    for (labels, value) in rows {
        let mut sample = descriptor.encode_family(&labels)?;
        match kind {
            MetricType::Counter => sample.encode_counter::<NoLabelSet, _, u64>(&value, None)?,
            _ => sample.encode_gauge(&value)?,
        }
    }
    Ok(())
}

fn process_figures(encoder: &mut DescriptorEncoder) -> fmt::Result {
    if let Some(bytes) = process::resident_bytes() {
        encoder
            .encode_descriptor(
                "process_resident_memory",
                "Resident memory of the roo process.",
                Some(&Unit::Bytes),
                MetricType::Gauge,
            )?
            .encode_gauge(&bytes)?;
    }
    if let Some(seconds) = process::cpu_seconds() {
        encoder
            .encode_descriptor(
                "process_cpu",
                "User and system CPU time of the roo process.",
                Some(&Unit::Seconds),
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, _, f64>(&seconds, None)?;
    }
    Ok(())
}
