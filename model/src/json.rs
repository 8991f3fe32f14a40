//! JSON text for the few answers roo writes by hand (no JSON library needed for them).

use crate::Value;
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

/// `value` as JSON, or None if some part of it was pickled (no JSON form): dicts with
/// string keys are objects, other dicts lists of `[key, value]` pairs, tuples and lists
/// arrays, bytes their text (invalid UTF-8 replaced), an app object its fields with its
/// class under `"__class__"`, a float that is not finite `null`.
pub fn value(value: &Value) -> Option<String> {
    Some(match value {
        Value::None => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) if x.is_finite() => format!("{x:?}"),
        Value::Float(_) => "null".into(),
        Value::Str(text) => quoted(text.as_str()),
        Value::Bytes(bytes) => quoted(&String::from_utf8_lossy(bytes)),
        Value::Tuple(items) | Value::List(items) => {
            array(items.iter().map(self::value).collect::<Option<Vec<_>>>()?)
        }
        Value::Dict(pairs) if pairs.iter().all(|(k, _)| matches!(k, Value::Str(_))) => {
            let mut fields = vec![];
            for (key, item) in pairs {
                let Value::Str(key) = key else { unreachable!() };
                fields.push((key.as_str(), self::value(item)?));
            }
            object(fields)
        }
        Value::Dict(pairs) => array(
            pairs
                .iter()
                .map(|(k, v)| Some(array([self::value(k)?, self::value(v)?])))
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Object { class, fields } => {
            let mut shown = vec![("__class__", quoted(class))];
            for (name, item) in fields {
                shown.push((name.as_ref(), self::value(item)?));
            }
            object(shown)
        }
        Value::Pickled(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_as_json_and_pickled_ones_do_not() {
        let text = |s: &str| Value::Str(crate::Text::from(s));
        let counts = Value::Object {
            class: "app:WordTotals".into(),
            fields: vec![(
                "totals".into(),
                Value::Dict(vec![
                    (text("roo"), Value::Int(3)),
                    (text("x\""), Value::Float(0.5)),
                ]),
            )],
        };
        assert_eq!(
            value(&counts).unwrap(),
            r#"{"__class__":"app:WordTotals","totals":{"roo":3,"x\"":0.5}}"#
        );
        let mixed = Value::Dict(vec![(
            Value::Int(1),
            Value::List(vec![Value::None, Value::Bool(true)]),
        )]);
        assert_eq!(value(&mixed).unwrap(), "[[1,[null,true]]]");
        assert_eq!(value(&Value::List(vec![Value::Pickled(vec![1])])), None);
    }

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
