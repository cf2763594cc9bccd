//! Sequence definitions: the TOML a process engineer writes to say which steps
//! make a good part, and the step graph the checker aligns observations against.
//!
//! ```toml
//! name = "gear-housing"
//! final_step = "complete_part"       # observing this step closes the part
//! steps = [
//!   "riveted_start",
//!   { repeat = 5, steps = ["spacer", "greased_disk", "separator"] },
//!   "spacer_washer",
//!   { optional = "inspect" },
//!   "install_lid", "press_down", "complete_part",
//! ]
//! ```
//!
//! Elements are a plain step name; `{ repeat = N, steps = [...] }` (nests);
//! `{ optional = "name" }` or `{ optional = [...] }` (each listed step may be
//! done or left out, in the listed order); `{ any_order = [...] }` (all of them,
//! in any order).
//!
//! Two rules make part boundaries unambiguous on a live stream: the first
//! element is a plain step (the *opening* step, whose appearance starts the next
//! part), the last element is the plain step named by `final_step`, and neither
//! of the two appears anywhere else in the definition.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diag::{Problems, Report, TomlDoc};
use crate::label::{Vocabulary, label_problem};

/// Largest `repeat` count; a larger one is almost certainly a typo.
pub const MAX_REPEAT: u32 = 1000;
/// Largest `any_order` group: the checker tracks every subset of it.
pub const MAX_ANY_ORDER: usize = 8;
/// Largest step graph; bounds the checker's memory per observed step.
pub const MAX_GRAPH_NODES: usize = 10_000;

/// One element of a definition's `steps` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    Step(String),
    Repeat { count: u32, steps: Vec<Element> },
    Optional(Vec<String>),
    AnyOrder(Vec<String>),
}

/// A validated sequence definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub final_step: String,
    pub steps: Vec<Element>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    name: String,
    final_step: String,
    steps: Vec<Element>,
}

impl Definition {
    /// Parses and validates a definition. When a model is configured, its
    /// labels are the only ones the steps may use, and idle labels are refused.
    pub fn parse(origin: &str, text: &str, vocabulary: Option<Vocabulary<'_>>) -> Result<Self, Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        let raw: Option<RawDefinition> = report.whole();
        let definition = raw.map(|raw| Definition {
            name: raw.name,
            final_step: raw.final_step,
            steps: raw.steps,
        });
        if let Some(definition) = &definition {
            definition.validate(&mut report);
            if let Some(vocabulary) = vocabulary {
                definition.check_labels(vocabulary, &mut report);
            }
        }
        report.finish(definition)
    }

    /// The step whose appearance starts a part.
    pub fn opening_step(&self) -> &str {
        match self.steps.first() {
            Some(Element::Step(name)) => name,
            _ => "",
        }
    }

    /// One valid run of the definition: repeats multiplied out, each optional
    /// step taken when `choose(2) == 0`, any-order groups shuffled with
    /// `choose(n)` picking from `0..n`. Generators and tests share it.
    pub fn sample_run(&self, choose: &mut dyn FnMut(usize) -> usize) -> Vec<String> {
        let mut out = Vec::new();
        sample_elements(&self.steps, choose, &mut out);
        out
    }

    /// Every label the definition uses, in first-use order, without repeats.
    pub fn labels(&self) -> Vec<String> {
        let mut out = Vec::new();
        visit_labels(&self.steps, "steps", &mut |label, _| {
            if !out.iter().any(|l| l == label) {
                out.push(label.to_owned());
            }
        });
        out
    }

    /// Records a problem for every step label the model lacks, and for every
    /// step that uses an idle label (idle windows are never steps).
    fn check_labels(&self, vocabulary: Vocabulary<'_>, report: &mut Report<'_, '_>) {
        visit_labels(&self.steps, "steps", &mut |label, path| {
            if !vocabulary.labels.iter().any(|l| l == label) {
                report.at(
                    path,
                    format!(
                        "step `{label}` is not a label of the model (labels: {})",
                        vocabulary.labels.join(", ")
                    ),
                );
            } else if vocabulary.idle.iter().any(|l| l == label) {
                report.at(
                    path,
                    format!("step `{label}` is an idle label, so it can never be observed as a step"),
                );
            }
        });
    }

    fn validate(&self, report: &mut Report<'_, '_>) {
        if self.name.trim().is_empty() {
            report.at("name", "name is empty");
        }
        if let Some(problem) = label_problem(&self.final_step) {
            report.at("final_step", problem);
        }
        if self.steps.is_empty() {
            report.at(
                "steps",
                "a sequence needs at least two steps: an opening step and the final step",
            );
            return;
        }
        validate_elements(&self.steps, "steps", report);

        let opening = match self.steps.first() {
            Some(Element::Step(name)) => Some(name.as_str()),
            _ => {
                report.at(
                    "steps[0]",
                    "the first element must be a plain step: its appearance starts a part",
                );
                None
            }
        };
        let last = self.steps.len() - 1;
        match self.steps.last() {
            Some(Element::Step(name)) if *name == self.final_step && last > 0 => {}
            _ => report.at(
                format!("steps[{last}]"),
                format!(
                    "the last element must be the plain step `{}` named by final_step, after the opening step",
                    self.final_step
                ),
            ),
        }
        let mut uses = |wanted: &str, what: &str| {
            let mut count = 0;
            visit_labels(&self.steps, "steps", &mut |label, path| {
                if label == wanted {
                    count += 1;
                    if count == 2 {
                        report.at(
                            path,
                            format!("`{wanted}` is the {what} step, so it must appear only once in the definition"),
                        );
                    }
                }
            });
        };
        if let Some(opening) = opening {
            uses(opening, "opening");
        }
        uses(&self.final_step, "final");

        if report.is_clean() {
            let nodes = graph_size(&self.steps);
            if nodes > MAX_GRAPH_NODES as u64 {
                report.at(
                    "steps",
                    format!(
                        "the definition expands to {nodes} checker states (repeats multiplied out); at most {MAX_GRAPH_NODES} are allowed"
                    ),
                );
            }
        }
    }
}

fn validate_elements(elements: &[Element], path: &str, report: &mut Report<'_, '_>) {
    for (i, element) in elements.iter().enumerate() {
        let here = format!("{path}[{i}]");
        match element {
            Element::Step(name) => {
                if let Some(problem) = label_problem(name) {
                    report.at(here, problem);
                }
            }
            Element::Repeat { count, steps } => {
                if *count == 0 {
                    report.at(
                        format!("{here}.repeat"),
                        "repeat = 0 would remove the group; delete it instead",
                    );
                } else if *count > MAX_REPEAT {
                    report.at(
                        format!("{here}.repeat"),
                        format!("repeat = {count} is more than {MAX_REPEAT}"),
                    );
                }
                if steps.is_empty() {
                    report.at(format!("{here}.steps"), "empty group: a repeat needs at least one step");
                }
                validate_elements(steps, &format!("{here}.steps"), report);
            }
            Element::Optional(names) | Element::AnyOrder(names) => {
                let key = if matches!(element, Element::Optional(_)) {
                    "optional"
                } else {
                    "any_order"
                };
                if names.is_empty() {
                    report.at(
                        format!("{here}.{key}"),
                        format!("empty group: `{key}` needs at least one step"),
                    );
                }
                if key == "any_order" && names.len() > MAX_ANY_ORDER {
                    report.at(
                        format!("{here}.{key}"),
                        format!(
                            "any_order holds {} steps; at most {MAX_ANY_ORDER} are allowed",
                            names.len()
                        ),
                    );
                }
                for (j, name) in names.iter().enumerate() {
                    if let Some(problem) = label_problem(name) {
                        report.at(format!("{here}.{key}[{j}]"), problem);
                    }
                }
            }
        }
    }
}

fn sample_elements(elements: &[Element], choose: &mut dyn FnMut(usize) -> usize, out: &mut Vec<String>) {
    for element in elements {
        match element {
            Element::Step(label) => out.push(label.clone()),
            Element::Repeat { count, steps } => {
                for _ in 0..*count {
                    sample_elements(steps, choose, out);
                }
            }
            Element::Optional(labels) => {
                for label in labels {
                    if choose(2) == 0 {
                        out.push(label.clone());
                    }
                }
            }
            Element::AnyOrder(labels) => {
                let mut labels = labels.clone();
                for i in (1..labels.len()).rev() {
                    labels.swap(i, choose(i + 1).min(i));
                }
                out.extend(labels);
            }
        }
    }
}

/// Calls `f(label, field_path)` for every label use, in definition order.
fn visit_labels(elements: &[Element], path: &str, f: &mut dyn FnMut(&str, String)) {
    for (i, element) in elements.iter().enumerate() {
        let here = format!("{path}[{i}]");
        match element {
            Element::Step(name) => f(name, here),
            Element::Repeat { steps, .. } => visit_labels(steps, &format!("{here}.steps"), f),
            Element::Optional(names) => {
                for (j, name) in names.iter().enumerate() {
                    f(name, format!("{here}.optional[{j}]"));
                }
            }
            Element::AnyOrder(names) => {
                for (j, name) in names.iter().enumerate() {
                    f(name, format!("{here}.any_order[{j}]"));
                }
            }
        }
    }
}

/// Number of checker states the elements expand to, saturating instead of overflowing.
fn graph_size(elements: &[Element]) -> u64 {
    elements.iter().fold(0u64, |total, element| {
        let size = match element {
            Element::Step(_) => 1,
            Element::Optional(names) => names.len() as u64,
            Element::AnyOrder(names) => (1u64 << names.len().min(63)) - 1,
            Element::Repeat { count, steps } => graph_size(steps).saturating_mul(u64::from(*count)),
        };
        total.saturating_add(size)
    })
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

/// `optional` takes one name or a list of names.
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a step name or a list of step names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    out.push(name);
                }
                Ok(OneOrMany(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

const ELEMENT_KEYS: &[&str] = &["repeat", "steps", "optional", "any_order"];

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a step name, { repeat = N, steps = [...] }, { optional = ... } or { any_order = [...] }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Element, E> {
        Ok(Element::Step(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut repeat: Option<i64> = None;
        let mut steps: Option<Vec<Element>> = None;
        let mut optional: Option<OneOrMany> = None;
        let mut any_order: Option<Vec<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "repeat" => repeat = Some(map.next_value()?),
                "steps" => steps = Some(map.next_value()?),
                "optional" => optional = Some(map.next_value()?),
                "any_order" => any_order = Some(map.next_value()?),
                other => return Err(de::Error::unknown_field(other, ELEMENT_KEYS)),
            }
        }
        match (repeat, steps, optional, any_order) {
            (Some(count), Some(steps), None, None) => {
                let count = u32::try_from(count).map_err(|_| {
                    de::Error::custom(format!(
                        "repeat = {count} must be a whole number from 1 to {MAX_REPEAT}"
                    ))
                })?;
                Ok(Element::Repeat { count, steps })
            }
            (Some(_), None, None, None) => Err(de::Error::missing_field("steps")),
            (None, Some(_), None, None) => Err(de::Error::missing_field("repeat")),
            (None, None, Some(names), None) => Ok(Element::Optional(names.0)),
            (None, None, None, Some(names)) => Ok(Element::AnyOrder(names)),
            (None, None, None, None) => Err(de::Error::custom(
                "empty element: use a step name, { repeat = N, steps = [...] }, { optional = ... } or { any_order = [...] }",
            )),
            _ => Err(de::Error::custom(
                "an element is exactly one of { repeat, steps }, { optional } or { any_order }",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Definition, Problems> {
        Definition::parse("seq.toml", text, None)
    }

    fn messages(text: &str) -> Vec<String> {
        parse(text)
            .expect_err("should be rejected")
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    const EXAMPLE: &str = r#"
name = "gear-housing"
final_step = "complete_part"
steps = [
  "riveted_start",
  { repeat = 5, steps = ["spacer", "greased_disk", "separator"] },
  "spacer_washer",
  { optional = "inspect" },
  { any_order = ["a", "b"] },
  "install_lid", "press_down", "complete_part",
]
"#;

    #[test]
    fn parses_every_element_kind() {
        let def = parse(EXAMPLE).expect("valid");
        assert_eq!(def.opening_step(), "riveted_start");
        assert_eq!(
            def.steps[1],
            Element::Repeat {
                count: 5,
                steps: vec![
                    Element::Step("spacer".into()),
                    Element::Step("greased_disk".into()),
                    Element::Step("separator".into())
                ]
            }
        );
        assert_eq!(def.steps[3], Element::Optional(vec!["inspect".into()]));
        assert_eq!(def.steps[4], Element::AnyOrder(vec!["a".into(), "b".into()]));
        assert_eq!(def.labels().len(), 11);
    }

    #[test]
    fn repeat_zero_and_empty_groups_are_located() {
        let found = messages(
            "name = \"x\"\nfinal_step = \"end\"\nsteps = [\n  \"start\",\n  { repeat = 0, steps = [\"a\"] },\n  { optional = [] },\n  { any_order = [] },\n  { repeat = 2, steps = [] },\n  \"end\",\n]\n",
        );
        assert_eq!(
            found,
            vec![
                "seq.toml:5:14: steps[1].repeat: repeat = 0 would remove the group; delete it instead",
                "seq.toml:6:16: steps[2].optional: empty group: `optional` needs at least one step",
                "seq.toml:7:17: steps[3].any_order: empty group: `any_order` needs at least one step",
                "seq.toml:8:25: steps[4].steps: empty group: a repeat needs at least one step",
            ]
        );
    }

    #[test]
    fn unknown_labels_are_rejected_against_the_model() {
        let labels: Vec<String> = ["idle", "riveted_start", "spacer", "complete_part"]
            .map(String::from)
            .to_vec();
        let idle = vec!["idle".to_owned()];
        let vocabulary = Vocabulary {
            labels: &labels,
            idle: &idle,
        };
        let text = "name = \"x\"\nfinal_step = \"complete_part\"\nsteps = [\"riveted_start\", \"spaser\", \"idle\", \"complete_part\"]\n";
        let problems = Definition::parse("seq.toml", text, Some(vocabulary)).expect_err("unknown label");
        assert_eq!(problems.0.len(), 2);
        assert_eq!(problems.0[1].field, "steps[2]");
        assert!(problems.0[1].message.contains("`idle` is an idle label"));
        assert_eq!(problems.0[0].field, "steps[1]");
        assert_eq!(problems.0[0].line, 3);
        assert!(problems.0[0].message.contains("`spaser` is not a label of the model"));
    }

    #[test]
    fn boundaries_must_be_plain_and_unique() {
        let found = messages("name = \"x\"\nfinal_step = \"end\"\nsteps = [{ optional = \"a\" }, \"b\"]\n");
        assert!(
            found[0].contains("steps[0]: the first element must be a plain step"),
            "{found:?}"
        );
        assert!(
            found[1].contains("steps[1]: the last element must be the plain step `end`"),
            "{found:?}"
        );

        let found = messages(
            "name = \"x\"\nfinal_step = \"end\"\nsteps = [\"start\", { repeat = 2, steps = [\"start\"] }, \"end\"]\n",
        );
        assert_eq!(
            found,
            vec![
                "seq.toml:3:42: steps[1].steps[0]: `start` is the opening step, so it must appear only once in the definition"
            ]
        );
    }

    #[test]
    fn malformed_elements_name_the_field() {
        let found = messages("name = \"x\"\nfinal_step = \"end\"\nsteps = [\"s\", { repeat = 2 }, \"end\"]\n");
        assert!(
            found[0].starts_with("seq.toml:3:")
                && found[0].contains("steps[1]")
                && found[0].contains("missing field `steps`"),
            "{found:?}"
        );

        let found =
            messages("name = \"x\"\nfinal_step = \"end\"\nsteps = [\"s\", { repaet = 2, steps = [\"a\"] }, \"end\"]\n");
        assert!(found[0].contains("unknown field `repaet`"), "{found:?}");

        let found = messages(
            "name = \"x\"\nfinal_step = \"end\"\nsteps = [\"s\", { repeat = -1, steps = [\"a\"] }, \"end\"]\n",
        );
        assert!(found[0].contains("repeat = -1 must be a whole number"), "{found:?}");

        let found = messages("name = \"x\"\nfinal_stop = \"end\"\nsteps = [\"s\", \"end\"]\n");
        assert!(found[0].contains("unknown field `final_stop`"), "{found:?}");
    }

    #[test]
    fn huge_expansions_are_refused() {
        let found = messages(
            "name = \"x\"\nfinal_step = \"end\"\nsteps = [\"s\", { repeat = 1000, steps = [{ repeat = 1000, steps = [\"a\"] }] }, \"end\"]\n",
        );
        assert!(found[0].contains("expands to 1000002 checker states"), "{found:?}");
    }
}
