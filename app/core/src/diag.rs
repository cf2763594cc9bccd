//! Problems found in an input file, each located by line, column and field.
//!
//! Every text format the station reads (station config, sequence definition,
//! model manifest, window files) reports errors through [`Problem`], so that an
//! operator always sees `file:line:column: field: reason`. TOML documents are
//! loaded section by section, so one bad section does not hide problems in the
//! others; semantic validation then adds its own problems by field path, and
//! [`TomlDoc::locate`] turns each path back into a line and column.

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or other origin) as the user named it.
    pub origin: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// Dotted field path, e.g. `steps[2].repeat`; empty for syntax errors.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

/// All problems found in one load; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl Problems {
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
}

/// Maps a byte offset in `text` to a 1-based (line, column in characters).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A parsed TOML document that remembers where every value came from.
pub struct TomlDoc<'a> {
    origin: String,
    text: &'a str,
    root: Spanned<DeTable<'a>>,
}

/// Collects problems against one document while sections are loaded and checked.
pub struct Report<'d, 'a> {
    doc: &'d TomlDoc<'a>,
    problems: Vec<Problem>,
}

impl<'a> TomlDoc<'a> {
    /// Parses TOML syntax. A syntax error stops here: nothing after it can be trusted.
    pub fn parse(origin: &str, text: &'a str) -> Result<Self, Problems> {
        match DeTable::parse(text) {
            Ok(root) => Ok(Self {
                origin: origin.to_owned(),
                text,
                root,
            }),
            Err(err) => Err(Problems(vec![Problem {
                origin: origin.to_owned(),
                line: err.span().map_or(0, |s| line_column(text, s.start).0),
                column: err.span().map_or(0, |s| line_column(text, s.start).1),
                field: String::new(),
                message: err.message().trim().to_owned(),
            }])),
        }
    }

    pub fn report(&self) -> Report<'_, 'a> {
        Report {
            doc: self,
            problems: Vec::new(),
        }
    }

    /// Keys present at the top level, in file order.
    pub fn top_level_keys(&self) -> Vec<(String, Range<usize>)> {
        let mut keys: Vec<_> = self
            .root
            .get_ref()
            .iter()
            .map(|(k, _)| (k.get_ref().to_string(), k.span()))
            .collect();
        keys.sort_by_key(|(_, span)| span.start);
        keys
    }

    /// Deserialises the whole document as one value.
    pub fn whole<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let de = toml::de::Deserializer::from(self.root.clone());
        serde_path_to_error::deserialize(de).map_err(|err| self.serde_problem("", err))
    }

    /// Deserialises the value under one top-level key, if present.
    pub fn section<T: DeserializeOwned>(&self, key: &str) -> Option<Result<T, Problem>> {
        let value = self.root.get_ref().get(key)?;
        let de = toml::de::ValueDeserializer::from(value.clone());
        Some(serde_path_to_error::deserialize(de).map_err(|err| self.serde_problem(key, err)))
    }

    fn serde_problem(&self, prefix: &str, err: serde_path_to_error::Error<toml::de::Error>) -> Problem {
        let path = err.path().to_string();
        let field = join_path(prefix, if path == "." { "" } else { &path });
        let inner = err.into_inner();
        let (line, column) = match inner.span() {
            Some(span) => line_column(self.text, span.start),
            None => self.locate(&field),
        };
        Problem {
            origin: self.origin.clone(),
            line,
            column,
            field,
            message: inner.message().trim().to_owned(),
        }
    }

    /// Line and column of the value at a field path such as `steps[2].repeat`.
    /// Falls back to the nearest enclosing value that exists.
    pub fn locate(&self, field: &str) -> (usize, usize) {
        let mut span = self.root.span();
        let mut value: Option<&DeValue<'a>> = None;
        let mut table: Option<&DeTable<'a>> = Some(self.root.get_ref());
        for segment in split_path(field) {
            let next = match (&segment, table, value) {
                (PathSegment::Key(key), Some(t), _) => t.get(*key),
                (PathSegment::Key(key), None, Some(v)) => v.get(*key),
                (PathSegment::Index(i), _, Some(v)) => v.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            span = next.span();
            value = Some(next.get_ref());
            table = None;
        }
        if span.start == 0 && span.end >= self.text.len() && !field.is_empty() {
            return (0, 0);
        }
        line_column(self.text, span.start)
    }
}

impl Report<'_, '_> {
    /// Records a problem with the value at `field`.
    pub fn at(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        let (line, column) = self.doc.locate(&field);
        self.problems.push(Problem {
            origin: self.doc.origin.clone(),
            line,
            column,
            field,
            message: message.into(),
        });
    }

    /// Loads the whole document as one value, recording a problem if it is malformed.
    pub fn whole<T: DeserializeOwned>(&mut self) -> Option<T> {
        self.doc.whole().map_err(|problem| self.problems.push(problem)).ok()
    }

    /// Loads a required section, recording a problem if it is absent or malformed.
    pub fn required<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match self.doc.section(key) {
            Some(Ok(value)) => Some(value),
            Some(Err(problem)) => {
                self.problems.push(problem);
                None
            }
            None => {
                self.at(key, "missing required section");
                None
            }
        }
    }

    /// Loads an optional section, recording a problem if it is malformed.
    /// Returns `Some(None)` when it is absent and `None` when it is malformed.
    pub fn optional<T: DeserializeOwned>(&mut self, key: &str) -> Option<Option<T>> {
        match self.doc.section(key) {
            Some(Ok(value)) => Some(Some(value)),
            Some(Err(problem)) => {
                self.problems.push(problem);
                None
            }
            None => Some(None),
        }
    }

    /// Records a problem for every top-level key not in `known`.
    pub fn deny_unknown_top_level(&mut self, known: &[&str]) {
        for (key, _) in self.doc.top_level_keys() {
            if !known.contains(&key.as_str()) {
                self.at(
                    key.clone(),
                    format!("unknown section `{key}`, expected one of: {}", known.join(", ")),
                );
            }
        }
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Ends the report: `Ok(value)` when nothing was found, every problem otherwise.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Problems> {
        match value {
            Some(value) if self.problems.is_empty() => Ok(value),
            _ if self.problems.is_empty() => Err(Problems(vec![Problem {
                origin: self.doc.origin.clone(),
                line: 0,
                column: 0,
                field: String::new(),
                message: "could not be loaded".into(),
            }])),
            _ => Err(Problems(self.problems)),
        }
    }
}

/// Joins a parent path and a child path (`a` + `b[1].c` → `a.b[1].c`).
pub fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (false, true) => parent.to_owned(),
        (false, false) if child.starts_with('[') => format!("{parent}{child}"),
        (false, false) => format!("{parent}.{child}"),
    }
}

#[derive(Debug, PartialEq)]
enum PathSegment<'p> {
    Key(&'p str),
    Index(usize),
}

fn split_path(field: &str) -> Vec<PathSegment<'_>> {
    let mut segments = Vec::new();
    for part in field.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(PathSegment::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(index) = rest[1..close].parse() {
                segments.push(PathSegment::Index(index));
            }
            rest = &rest[close + 1..];
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // 'é' is two bytes; the '=' after it is column 4.
        assert_eq!(line_column(text, 10), (2, 4));
    }

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            split_path("steps[2].steps[0]"),
            vec![
                PathSegment::Key("steps"),
                PathSegment::Index(2),
                PathSegment::Key("steps"),
                PathSegment::Index(0)
            ]
        );
        assert_eq!(join_path("gpio", "[1]"), "gpio[1]");
        assert_eq!(join_path("gpio", "red"), "gpio.red");
    }

    #[test]
    fn locate_finds_nested_values() {
        let text = "name = \"x\"\nsteps = [\n  \"a\",\n  { repeat = 0, steps = [\"b\"] },\n]\n";
        let doc = TomlDoc::parse("seq.toml", text).expect("valid toml");
        assert_eq!(doc.locate("steps[1].repeat"), (4, 14));
        assert_eq!(doc.locate("steps[0]"), (3, 3));
        // A missing leaf falls back to its parent.
        assert_eq!(doc.locate("steps[1].nope"), (4, 3));
    }

    #[test]
    fn syntax_errors_are_located() {
        let problems = TomlDoc::parse("bad.toml", "a = 1\nb = = 2\n")
            .err()
            .expect("syntax error");
        assert_eq!(problems.0[0].line, 2);
        assert!(problems.to_string().starts_with("bad.toml:2:"));
    }
}
