//! The little JSON the chat protocol needs: one flat object whose values
//! are strings (parsed strictly: RFC 8259 syntax, no duplicate keys,
//! nothing else accepted), and objects of strings and string arrays
//! written out.

use std::fmt::{self, Write as _};

/// Why a text is not a flat object of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// Byte offset where parsing stopped.
    pub at: usize,
    /// What was wrong there.
    pub what: &'static str,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for Error {}

/// Parses `{"key":"value",...}` (whitespace allowed between tokens) into
/// its fields, in order. Any other value, a repeated key, a bad escape, a
/// lone surrogate, a raw control character or trailing text is an error.
pub fn parse_object(text: &str) -> Result<Vec<(String, String)>, Error> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.at += 1;
    } else {
        loop {
            let key_at = p.at;
            let key = p.string()?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(Error {
                    at: key_at,
                    what: "repeated key",
                });
            }
            p.ws();
            p.expect(b':')?;
            p.ws();
            let value = p.string()?;
            fields.push((key, value));
            p.ws();
            match p.next() {
                Some(b',') => p.ws(),
                Some(b'}') => break,
                _ => return Err(p.error_before("expected ',' or '}'")),
            }
        }
    }
    p.ws();
    if p.at != p.bytes.len() {
        return Err(p.error("text after the object"));
    }
    Ok(fields)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> Error {
        Error { at: self.at, what }
    }

    fn error_before(&self, what: &'static str) -> Error {
        Error {
            at: self.at.saturating_sub(1),
            what,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, want: u8) -> Result<(), Error> {
        if self.peek() == Some(want) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(match want {
                b'{' => "expected an object",
                b':' => "expected ':'",
                _ => "unexpected character",
            }))
        }
    }

    /// A string token: the quotes, characters and escapes.
    fn string(&mut self) -> Result<String, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string"));
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters at once; the input is a
            // `str`, so the run ends on a character boundary (the bytes it
            // stops at are ASCII).
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(&self.text[start..self.at]);
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.error_before("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// The escape after a backslash.
    fn escape(&mut self) -> Result<char, Error> {
        let c = match self.next() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode(),
            _ => return Err(self.error_before("bad escape")),
        };
        Ok(c)
    }

    /// `\uXXXX`, and the low half after a high surrogate.
    fn unicode(&mut self) -> Result<char, Error> {
        let start = self.at - 2;
        let unit = self.hex4()?;
        let code = match unit {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                    return Err(Error {
                        at: start,
                        what: "lone surrogate",
                    });
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(Error {
                        at: start,
                        what: "lone surrogate",
                    });
                }
                0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(Error {
                    at: start,
                    what: "lone surrogate",
                });
            }
            _ => u32::from(unit),
        };
        char::from_u32(code).ok_or(Error {
            at: start,
            what: "bad code point",
        })
    }

    fn hex4(&mut self) -> Result<u16, Error> {
        let mut value = 0u16;
        for _ in 0..4 {
            let digit = match self.next() {
                Some(b) if b.is_ascii_hexdigit() => (b as char).to_digit(16).unwrap_or(0),
                _ => return Err(self.error_before("expected four hex digits")),
            };
            value = (value << 4) | digit as u16;
        }
        Ok(value)
    }
}

/// A value written by [`object`].
pub enum Value<'a> {
    Str(&'a str),
    Strs(&'a [&'a str]),
}

/// `{"key":value,...}` with every string escaped.
pub fn object(fields: &[(&str, Value<'_>)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, key);
        out.push(':');
        match value {
            Value::Str(s) => string(&mut out, s),
            Value::Strs(list) => {
                out.push('[');
                for (j, s) in list.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    string(&mut out, s);
                }
                out.push(']');
            }
        }
    }
    out.push('}');
    out
}

/// Appends `s` as a JSON string: quotes, backslashes and control
/// characters escaped (U+2028 and U+2029 too, for old JavaScript parsers);
/// everything else as UTF-8.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(String, String)> {
        parse_object(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn parses_flat_objects() {
        assert_eq!(fields("{}"), vec![]);
        assert_eq!(fields(" { } \n"), vec![]);
        assert_eq!(
            fields(r#"{"type":"message","text":"hi"}"#),
            vec![pair("type", "message"), pair("text", "hi")]
        );
        assert_eq!(
            fields("\t{ \"a\" :\r\n\"b\" , \"c\":\"\" }"),
            vec![pair("a", "b"), pair("c", "")]
        );
        assert_eq!(fields(r#"{"é":"ünï"}"#), vec![pair("é", "ünï")]);
    }

    #[test]
    fn unescapes() {
        assert_eq!(
            fields(r#"{"t":"\"\\\/\b\f\n\r\t"}"#),
            vec![pair("t", "\"\\/\u{8}\u{c}\n\r\t")]
        );
        assert_eq!(
            fields(r#"{"t":"\u0041\u00e9\u20AC"}"#),
            vec![pair("t", "Aé€")]
        );
        assert_eq!(fields(r#"{"t":"\ud83d\ude00!"}"#), vec![pair("t", "😀!")]);
        assert_eq!(
            fields(r#"{"t":"\uDBFF\uDFFF"}"#),
            vec![pair("t", "\u{10FFFF}")]
        );
        assert_eq!(fields(r#"{"t":"\u0000"}"#), vec![pair("t", "\0")]);
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            " ",
            "[]",
            "\"s\"",
            "null",
            "{",
            "}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\" \"b\"}",
            "{\"a\":\"b\",}",
            "{,}",
            "{\"a\":\"b\"\"c\":\"d\"}",
            "{\"a\":1}",
            "{\"a\":true}",
            "{\"a\":null}",
            "{\"a\":{}}",
            "{\"a\":[\"b\"]}",
            "{a:\"b\"}",
            "{'a':'b'}",
            "{\"a\":\"b\"} x",
            "{\"a\":\"b\"}{}",
            "{\"a\":\"b\",\"a\":\"c\"}",
            "{\"a\":\"b",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\u12G4\"}",
            "{\"a\":\"\\ud83d\"}",
            "{\"a\":\"\\ud83dx\"}",
            "{\"a\":\"\\ud83d\\u0041\"}",
            "{\"a\":\"\\ude00\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":\"line\nbreak\"}",
            "\u{feff}{}",
            "{\"a\":\"b\"}\u{a0}",
        ] {
            assert!(parse_object(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn writes_and_reads_back() {
        let tricky = "q\"b\\s/ n\n r\r t\t \u{1} \u{1f} \u{7f} é 😀 \u{2028}</script>";
        let text = object(&[
            ("type", Value::Str("message")),
            ("text", Value::Str(tricky)),
        ]);
        assert!(!text.contains('\n') && !text.contains('\u{1}'));
        assert!(text.contains("\\u0001") && text.contains("\\u2028"));
        assert_eq!(
            fields(&text),
            vec![pair("type", "message"), pair("text", tricky)]
        );
        assert_eq!(
            object(&[("names", Value::Strs(&["a", "b\"c"]))]),
            r#"{"names":["a","b\"c"]}"#
        );
        assert_eq!(object(&[("names", Value::Strs(&[]))]), r#"{"names":[]}"#);
    }
}
