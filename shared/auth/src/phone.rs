//! Phone numbers in E.164. Indonesian input comes as `08…`, `628…` or
//! `+628…`; all three normalise to `+628…`.

use std::fmt;

use phonenumber::{Mode, country};

use halo_proto::FieldError;

/// A valid phone number, always E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// A bad number is a field error on `phone`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError {
            field: "phone".to_owned(),
            code: "invalid_phone".to_owned(),
            message: "enter a valid phone number, e.g. 0812 3456 7890 or +62 812 3456 7890"
                .to_owned(),
        };
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if cleaned.is_empty() || cleaned.len() > 20 {
            return Err(invalid());
        }
        // "628…" is an international number typed without its "+".
        let candidate = if cleaned.starts_with("62") {
            format!("+{cleaned}")
        } else {
            cleaned
        };
        let number =
            phonenumber::parse(Some(country::Id::ID), &candidate).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_indonesian_spellings_normalise_to_one_e164_number() {
        for raw in [
            "081234567890",
            "6281234567890",
            "+6281234567890",
            "0812-3456-7890",
        ] {
            assert_eq!(
                Phone::parse(raw).unwrap().as_str(),
                "+6281234567890",
                "{raw}"
            );
        }
    }

    #[test]
    fn garbage_is_a_field_error_on_phone() {
        for raw in ["", "hello", "12", "+62", "0812345678901234567890"] {
            let Err(error) = Phone::parse(raw) else {
                panic!("{raw:?} was accepted");
            };
            assert_eq!(
                (error.field.as_str(), error.code.as_str()),
                ("phone", "invalid_phone")
            );
        }
    }
}
