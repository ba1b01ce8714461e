//! What a free-text field of the contract may hold. The edges check it to
//! answer 400 before any call, and the core checks it again because it
//! trusts no caller: Postgres refuses NUL bytes (a 500 otherwise), and
//! control, bidi-override or invisible characters make names that display
//! as something else.

use unicode_normalization::UnicodeNormalization;

use crate::FieldError;

/// How strict a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRule {
    /// One line of text: no control characters.
    Line,
    /// A name other people see: also no bidi controls, and not only
    /// invisible characters.
    DisplayName,
    /// Free text of several lines (a note): line breaks and tabs allowed,
    /// no other control characters.
    Paragraph,
}

/// Bidi embeddings, overrides, isolates and marks (Unicode TR9): they
/// reorder the text around them, e.g. to spoof a file extension or a name.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that render as nothing: a name made only of them looks empty.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
                | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
                | '\u{180E}' | '\u{FE00}'..='\u{FE0F}'
        )
}

/// A control character other than the line breaks and tabs free text may
/// hold: what `TextRule::Paragraph` refuses (chat messages use it too,
/// stored as sent).
pub fn refused_in_paragraph(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// Trims and NFC-normalises `raw`, or says what is wrong with it, naming
/// `field`. Length limits stay with each field's own check.
pub fn clean_text(field: &str, raw: &str, rule: TextRule) -> Result<String, FieldError> {
    let error = |code: &str, message: &str| FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: message.to_owned(),
    };
    let refused = |c: char| match rule {
        TextRule::Paragraph => refused_in_paragraph(c),
        TextRule::Line | TextRule::DisplayName => c.is_control(),
    };
    if raw.chars().any(refused) {
        return Err(error(
            "invalid_characters",
            "must not contain control characters (such as NUL or line breaks)",
        ));
    }
    let text: String = raw.trim().nfc().collect();
    if rule == TextRule::DisplayName {
        if text.chars().any(is_bidi_control) {
            return Err(error(
                "invalid_characters",
                "must not contain text-direction override characters",
            ));
        }
        if !text.is_empty() && text.chars().all(is_invisible) {
            return Err(error(
                "invisible_text",
                "must contain at least one visible character",
            ));
        }
    }
    Ok(text)
}

/// An optional free-text note: several lines allowed, trimmed; blank is
/// no note. The length is counted as sent, as an OpenAPI `maxLength` counts
/// it; documents give notes `TextRule::Paragraph`'s rule as their `pattern`
/// (no control characters but line breaks and tabs).
pub fn optional_note(
    field: &str,
    raw: Option<String>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if raw.chars().count() > max {
        return Err(FieldError {
            field: field.to_owned(),
            code: "too_long".to_owned(),
            message: format!("at most {max} characters"),
        });
    }
    let text = clean_text(field, &raw, TextRule::Paragraph)?;
    Ok((!text.is_empty()).then_some(text))
}

/// Every string (key or value) inside a JSON document that holds a control
/// character, named by its path (`pricing_tiers[0].label`): documents are
/// stored as `jsonb`, which refuses NUL.
pub fn control_characters_in(path: &str, value: &serde_json::Value) -> Vec<FieldError> {
    let mut found = Vec::new();
    walk(path, value, &mut found);
    found
}

fn walk(path: &str, value: &serde_json::Value, found: &mut Vec<FieldError>) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let Err(error) = clean_text(path, text, TextRule::Line) {
                found.push(error);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), item, found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.chars().any(char::is_control) {
                    found.push(FieldError {
                        field: at.escape_default().to_string(),
                        code: "invalid_characters".to_owned(),
                        message: "a key must not contain control characters".to_owned(),
                    });
                    continue;
                }
                walk(&at, item, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str, rule: TextRule) -> Option<String> {
        clean_text("name", raw, rule).err().map(|e| e.code)
    }

    #[test]
    fn nul_and_other_control_characters_are_refused_in_any_field() {
        for raw in ["a\u{0}b", "line\nbreak", "tab\there", "\u{7f}", "c1\u{85}"] {
            assert_eq!(
                code(raw, TextRule::Line).as_deref(),
                Some("invalid_characters"),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn a_paragraph_keeps_its_line_breaks_and_refuses_other_controls() {
        assert_eq!(
            clean_text("note", " two\nlines\r\n\tindented ", TextRule::Paragraph).unwrap(),
            "two\nlines\r\n\tindented"
        );
        assert_eq!(
            code("nul\u{0}", TextRule::Paragraph).as_deref(),
            Some("invalid_characters")
        );
    }

    #[test]
    fn a_display_name_refuses_bidi_overrides_and_invisible_only_text() {
        assert_eq!(
            code("abc\u{202E}gpj.exe", TextRule::DisplayName).as_deref(),
            Some("invalid_characters")
        );
        assert_eq!(
            code("\u{200B}\u{200D}\u{FEFF}", TextRule::DisplayName).as_deref(),
            Some("invisible_text")
        );
        // The same text is fine where nobody reads it as a name.
        assert_eq!(code("abc\u{202E}", TextRule::Line), None);
    }

    #[test]
    fn control_characters_anywhere_in_a_json_document_are_named_by_path() {
        let doc = serde_json::json!({"pricing_tiers": [{"label": "ok"}, {"label": "a\u{0}"}], "k\u{0}": 1});
        let fields: Vec<String> = control_characters_in("", &doc)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["k\\u{0}", "pricing_tiers[1].label"]);
    }

    #[test]
    fn text_is_trimmed_and_nfc_normalised() {
        let decomposed = "  Jose\u{301}  ";
        assert_eq!(
            clean_text("name", decomposed, TextRule::DisplayName).unwrap(),
            "Jos\u{e9}"
        );
        assert_eq!(
            clean_text("name", "Sinta 🌸", TextRule::DisplayName).unwrap(),
            "Sinta 🌸"
        );
    }
}
