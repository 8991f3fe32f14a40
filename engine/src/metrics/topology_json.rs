//! `/topology.json`: the app's pipelines, their sources, steps and sinks, for the dashboard.

use model::topology::StepKind;
use model::Topology;
use std::fmt::Write;

/// The topology as JSON: `{"app", "cores", "pipelines": [{"name", "sources": [{"name",
/// "address"}], "steps": [{"name", "kind", "parallel"}], "sinks": [address], "next"}]}`.
pub fn render(topology: &Topology, cores: usize) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"app\":{},\"cores\":{cores},\"pipelines\":[",
        quoted(&topology.name)
    );
    for (chain, spec) in topology.chains.iter().enumerate() {
        if chain > 0 {
            out.push(',');
        }
        let sources: Vec<String> = topology
            .sources
            .iter()
            .filter(|source| source.chain == chain)
            .map(|source| {
                format!(
                    "{{\"name\":{},\"address\":{}}}",
                    quoted(&source.name),
                    quoted(&source.address())
                )
            })
            .collect();
        let steps: Vec<String> = spec
            .steps
            .iter()
            .map(|step| {
                let kind = match step.kind {
                    StepKind::State => "state",
                    StepKind::Stateless => "stateless",
                };
                format!(
                    "{{\"name\":{},\"kind\":\"{kind}\",\"parallel\":{}}}",
                    quoted(&step.name),
                    step.parallel
                )
            })
            .collect();
        let sinks: Vec<String> = spec
            .sinks
            .iter()
            .map(|&sink| quoted(&topology.sinks[sink].address()))
            .collect();
        let next = spec.next.map_or("null".to_string(), |next| {
            quoted(&topology.chains[next].name)
        });
        let _ = write!(
            out,
            "{{\"name\":{},\"sources\":[{}],\"steps\":[{}],\"sinks\":[{}],\"next\":{next}}}",
            quoted(&spec.name),
            sources.join(","),
            steps.join(","),
            sinks.join(",")
        );
    }
    out.push_str("]}");
    out
}

/// A JSON string literal.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_are_escaped() {
        assert_eq!(super::quoted("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
    }
}
