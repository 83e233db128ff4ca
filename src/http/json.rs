//! JSON values out of a request body without serde_json's scratch buffer: a string with
//! escapes (every line break of a paste is one) is otherwise unescaped into a growing buffer
//! and then copied, so a large text was held three times (body, buffer, copy). Here the text
//! is borrowed from the body as raw JSON (validated, never copied) and unescaped once, into a
//! string of its final size.

use async_graphql::{Name, Value};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The text of a raw JSON string (`None` when `raw` is not a string).
pub(super) fn string(raw: &RawValue) -> Result<Option<String>, serde_json::Error> {
    let json = raw.get();
    let Some(inner) = json.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return Ok(None);
    };
    if !inner.contains('\\') {
        return Ok(Some(inner.to_owned()));
    }
    let mut out = String::with_capacity(unescaped_len(inner));
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let (c, used) = escape(&rest.as_bytes()[at..])?;
        out.push(c);
        rest = &rest[at + used..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// [`string`] of the raw JSON value at `span` of `body` (already validated, as a [`RawValue`]
/// is), unescaped in place: the body's buffer becomes the text, since unescaping never
/// lengthens it. A large text is then held once, where [`string`] holds it twice for a moment
/// (the body and the text). The buffer keeps the body's capacity.
pub(super) fn string_in_place(
    mut body: Vec<u8>,
    span: std::ops::Range<usize>,
) -> Result<Option<String>, serde_json::Error> {
    if span.len() < 2 || body[span.start] != b'"' {
        return Ok(None);
    }
    let (mut read, end) = (span.start + 1, span.end - 1);
    let mut write = 0;
    while read < end {
        let run = body[read..end]
            .iter()
            .position(|&b| b == b'\\')
            .unwrap_or(end - read);
        body.copy_within(read..read + run, write);
        (read, write) = (read + run, write + run);
        if read == end {
            break;
        }
        let (c, used) = escape(&body[read..end])?;
        // The escape is at least as long as its character's UTF-8 (`\n`: 2 for 1, `\uXXXX`:
        // 6 for at most 3, a surrogate pair 12 for 4), and `write` is behind `read`.
        c.encode_utf8(&mut body[write..read + used]);
        (read, write) = (read + used, write + c.len_utf8());
    }
    body.truncate(write);
    String::from_utf8(body)
        .map(Some)
        .map_err(|_| de::Error::custom("invalid UTF-8 in a JSON string"))
}

/// The escape at the start of `s` (a backslash and what follows): its character and length.
fn escape(s: &[u8]) -> Result<(char, usize), serde_json::Error> {
    Ok(match s.get(1) {
        Some(b'"') => ('"', 2),
        Some(b'\\') => ('\\', 2),
        Some(b'/') => ('/', 2),
        Some(b'b') => ('\u{8}', 2),
        Some(b'f') => ('\u{c}', 2),
        Some(b'n') => ('\n', 2),
        Some(b'r') => ('\r', 2),
        Some(b't') => ('\t', 2),
        Some(b'u') => unicode(s)?,
        _ => return Err(de::Error::custom("invalid escape in a JSON string")),
    })
}

/// Bytes of a string's text once unescaped (an upper bound for `\u` escapes, which are at most
/// as long as their escape).
fn unescaped_len(inner: &str) -> usize {
    let b = inner.as_bytes();
    let (mut len, mut i) = (0, 0);
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'u') => {
                    len += 4;
                    i += 6;
                }
                _ => {
                    len += 1;
                    i += 2;
                }
            }
        } else {
            len += 1;
            i += 1;
        }
    }
    len
}

/// `\uXXXX` (or a surrogate pair `\uD83D\uDE00`) at the start of `s`: the character and the
/// bytes it took.
fn unicode(s: &[u8]) -> Result<(char, usize), serde_json::Error> {
    let hex = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| de::Error::custom("invalid \\u escape in a JSON string"))
    };
    let first = hex(s, 2)?;
    let (code, used) = match first {
        0xD800..=0xDBFF => {
            let low = match s.get(6..8) {
                Some(b"\\u") => hex(s, 8)?,
                _ => return Err(de::Error::custom("lone surrogate in a JSON string")),
            };
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(de::Error::custom("lone surrogate in a JSON string"));
            }
            (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
        }
        0xDC00..=0xDFFF => return Err(de::Error::custom("lone surrogate in a JSON string")),
        c => (c, 6),
    };
    let c = char::from_u32(code).ok_or_else(|| de::Error::custom("invalid \\u escape"))?;
    Ok((c, used))
}

/// A GraphQL value from raw JSON, each string unescaped once by [`string`].
pub(super) fn value(raw: &RawValue) -> Result<Value, serde_json::Error> {
    if let Some(s) = string(raw)? {
        return Ok(Value::String(s));
    }
    let mut json = serde_json::Deserializer::from_str(raw.get());
    let value = de::Deserializer::deserialize_any(&mut json, Values)?;
    json.end()?;
    Ok(value)
}

/// Objects and arrays are walked with their members kept raw, so that no string of theirs
/// goes through serde_json's buffer; scalars are read as they are.
struct Values;

impl<'de> Visitor<'de> for Values {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut list = Vec::new();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            list.push(value(raw).map_err(de::Error::custom)?);
        }
        Ok(Value::List(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = async_graphql::indexmap::IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let raw: &'de RawValue = map.next_value()?;
            object.insert(Name::new(key), value(raw).map_err(de::Error::custom)?);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    /// Texts with every kind of escape JSON has.
    const TEXTS: [&str; 5] = [
        "plain",
        "",
        "line\nbreak \"quoted\" back\\slash\ttab /",
        "\u{8}\u{c}\r\u{1}\u{1f}",
        "ünïcödé 日本語 🙂 \u{2028}",
    ];

    #[test]
    fn strings_unescape_as_serde_json_does() {
        for text in TEXTS {
            let json = serde_json::to_string(text).unwrap();
            assert_eq!(
                string(&raw(&json)).unwrap().as_deref(),
                Some(text),
                "{json}"
            );
        }
        let escaped = r#""\u00e9\u65e5\ud83d\ude42\/""#;
        let want: String = serde_json::from_str(escaped).unwrap();
        assert_eq!(string(&raw(escaped)).unwrap().unwrap(), want);
        for bad in [r#""\ud83d""#, r#""\ude42x""#, r#""\ud83d\u0041""#] {
            assert!(string(&raw(bad)).is_err(), "{bad}");
        }
        assert_eq!(string(&raw("12")).unwrap(), None);
    }

    #[test]
    fn strings_unescape_in_place_as_serde_json_does() {
        let long = "x\"\\\n/".repeat(1000) + "🙂";
        for text in TEXTS.into_iter().chain([long.as_str()]) {
            // Inside a body, as the REST create finds it.
            let body =
                serde_json::to_vec(&serde_json::json!({ "a": 1, "paste_contents": text })).unwrap();
            let json = serde_json::to_string(text).unwrap();
            let start = body
                .windows(json.len())
                .rposition(|w| w == json.as_bytes())
                .unwrap();
            let span = start..start + json.len();
            assert_eq!(
                string_in_place(body, span).unwrap().as_deref(),
                Some(text),
                "{json}"
            );
        }
        // The body's buffer becomes the text: no second buffer of its size.
        let body = br#"{"paste_contents":"a\nb"}"#.to_vec();
        let at = body.as_ptr();
        let text = string_in_place(body, 18..24).unwrap().unwrap();
        assert_eq!((text.as_ptr(), text.as_str()), (at, "a\nb"));
        let escaped = br#"{"t":"\u00e9\u65e5\ud83d\ude42\/"}"#.to_vec();
        let want: serde_json::Value = serde_json::from_slice(&escaped).unwrap();
        let span = 5..escaped.len() - 1;
        assert_eq!(string_in_place(escaped, span).unwrap().unwrap(), want["t"]);
        assert_eq!(
            string_in_place(br#"{"t":12}"#.to_vec(), 5..7).unwrap(),
            None
        );
    }

    #[test]
    fn values_match_async_graphql_own_parsing() {
        let json = r#"{"i":{"content":"a\nb","n":[1,-2,2.5,true,null,{"x":"\u00e9"}],"e":{}}}"#;
        let want: Value = serde_json::from_str(json).unwrap();
        assert_eq!(value(&raw(json)).unwrap(), want);
    }
}
