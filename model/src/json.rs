//! JSON text for the few answers roo writes by hand (no JSON library needed for them).

use std::fmt::Write;

/// `text` as a JSON string, quoted and escaped.
pub fn quoted(text: &str) -> String {
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

/// A JSON object of `entries` (keys quoted here, values already JSON).
pub fn object<'a>(entries: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let fields: Vec<String> = entries
        .into_iter()
        .map(|(key, value)| format!("{}:{value}", quoted(key)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A JSON array of `items` (already JSON).
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_objects_and_arrays_joined() {
        assert_eq!(quoted("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(
            object([
                ("a", "1".to_string()),
                ("b", array([quoted("x"), quoted("y")]))
            ]),
            r#"{"a":1,"b":["x","y"]}"#
        );
        assert_eq!(object([]), "{}");
    }
}
