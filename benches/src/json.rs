//! A flat JSON object writer for `kiln-bench`'s one-line result, which `cargo xtask bench`
//! reads back with its own small parser (xtask has no dependencies, so the format stays flat:
//! string keys, number / string / null values).

use std::fmt;

/// One JSON value of a flat object.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    /// A number; non-finite numbers are written as `null`.
    Num(f64),
    /// A string, escaped when written.
    Str(String),
}

/// An ordered, flat JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonObject {
    fields: Vec<(String, JsonValue)>,
}

impl JsonObject {
    /// An empty object.
    pub fn new() -> JsonObject {
        JsonObject::default()
    }

    /// Add a number field.
    pub fn num(&mut self, key: &str, v: f64) {
        self.fields.push((key.to_string(), JsonValue::Num(v)));
    }

    /// Add a string field.
    pub fn str(&mut self, key: &str, v: &str) {
        self.fields.push((key.to_string(), JsonValue::Str(v.to_string())));
    }

    /// The value of the last field named `key`, if any.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for ch in s.chars() {
        match ch {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_str(f, k)?;
            f.write_str(": ")?;
            match v {
                // `{:?}` keeps a decimal point or exponent, so the value reads back as a float.
                JsonValue::Num(x) if x.is_finite() => write!(f, "{x:?}")?,
                JsonValue::Num(_) => f.write_str("null")?,
                JsonValue::Str(s) => write_str(f, s)?,
            }
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbers_strings_and_null_in_order() {
        let mut o = JsonObject::new();
        o.num("t_ms", 1.5);
        o.num("n", 16.0);
        o.num("bad", f64::NAN);
        o.str("device", "cpu \"jit\"\n\u{1}");
        assert_eq!(o.to_string(), r#"{"t_ms": 1.5, "n": 16.0, "bad": null, "device": "cpu \"jit\"\n\u0001"}"#);
        assert_eq!(o.get("n"), Some(&JsonValue::Num(16.0)));
        assert_eq!(o.get("missing"), None);
    }
}
