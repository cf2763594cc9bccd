//! Step labels: the names a model gives its classes and a sequence uses for its steps.

/// Longest label accepted; keeps log lines and panel rows readable.
pub const MAX_LABEL_LEN: usize = 64;

/// Why a label is not acceptable, or `None` when it is.
///
/// Labels are ASCII letters, digits, `_`, `-` and `.`, so they survive every
/// format they travel through (TOML keys, JSON, SQL, file names of clips).
pub fn label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("label is empty".into());
    }
    if label.len() > MAX_LABEL_LEN {
        return Some(format!("label `{label}` is longer than {MAX_LABEL_LEN} characters"));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Some(format!(
            "label `{label}` contains {bad:?}; use letters, digits, `_`, `-` or `.`"
        ));
    }
    None
}

/// What a configured model can say, and which of it means "no step".
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary<'a> {
    /// The model's labels.
    pub labels: &'a [String],
    /// The station's idle labels.
    pub idle: &'a [String],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names_and_rejects_the_rest() {
        assert_eq!(label_problem("greased_disk"), None);
        assert_eq!(label_problem("step-2.b"), None);
        assert!(label_problem("").is_some());
        assert!(label_problem("two words").is_some());
        assert!(label_problem(&"x".repeat(65)).is_some());
    }
}
