//! Tests of the checker's rules, on hand-written cases, the seed's sequences and
//! generated runs.

use proptest::prelude::*;

use super::*;
use crate::event::{Event, StepStatus, Verdict};

fn definition(text: &str) -> Definition {
    match Definition::parse("test.toml", text, None) {
        Ok(def) => def,
        Err(problems) => panic!("test definition is invalid:\n{problems}"),
    }
}

fn seq(steps: &str) -> Definition {
    definition(&format!("name = \"t\"\nfinal_step = \"end\"\nsteps = [{steps}]\n"))
}

/// Runs occurrences one second apart and renders the events compactly.
fn check(def: &Definition, labels: &[&str]) -> Vec<String> {
    let mut checker = Checker::new(def);
    let mut events = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let occurrence = Occurrence {
            t: i as f64,
            label: (*label).to_owned(),
            p: 0.9,
        };
        events.extend(checker.observe(&occurrence));
    }
    events.extend(checker.finish(labels.len() as f64).map(Event::Part));
    events.iter().map(render).collect()
}

fn render(event: &Event) -> String {
    match event {
        Event::Step(s) if s.status == StepStatus::Ok => format!("{} ok", s.step),
        Event::Step(s) => format!("{} ERROR want {}", s.step, s.expected.join("|")),
        Event::Part(p) => format!(
            "part {} {:?} missing [{}] errors {}",
            p.part,
            p.verdict,
            p.missing.join(" "),
            p.errors
        ),
        Event::Warning(w) => format!("warning {}", w.label),
    }
}

const SEED_GOOD: &str = include_str!("../../../../config/sequences/gear-housing.toml");
const SEED_BAD: &str = include_str!("../../../../config/sequences/gear-housing-bad.toml");

/// A correct assembly of the seed's part.
fn seed_run() -> Vec<&'static str> {
    let mut run = vec!["riveted_start", "spacer", "greased_disk", "separator", "spacer_washer"];
    for _ in 0..4 {
        run.extend(["spacer", "greased_disk", "separator"]);
    }
    run.extend(["spacer", "greased_disk", "install_lid", "press_down", "complete_part"]);
    run
}

#[test]
fn the_seed_good_run_passes() {
    let events = check(&definition(SEED_GOOD), &seed_run());
    assert!(
        events[..events.len() - 1].iter().all(|e| e.ends_with(" ok")),
        "{events:#?}"
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("part 1 Pass missing [] errors 0")
    );
}

#[test]
fn the_seed_good_run_against_the_bad_sequence_shows_the_articles_errors() {
    let events = check(&definition(SEED_BAD), &seed_run());
    let tail: Vec<&str> = events[events.len() - 6..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "spacer ERROR want install_lid",
            "greased_disk ERROR want install_lid",
            "install_lid ok",
            "press_down ok",
            "complete_part ok",
            "part 1 Reject missing [install_lid press_down] errors 2",
        ]
    );
}

#[test]
fn a_faulty_seed_assembly_names_the_missing_step() {
    let mut run = seed_run();
    run.remove(10); // the separator of the second spacer/greased disk/separator
    let events = check(&definition(SEED_GOOD), &run);
    assert!(
        events[..events.len() - 1].iter().all(|e| e.ends_with(" ok")),
        "{events:#?}"
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("part 1 Reject missing [separator] errors 0")
    );
}

#[test]
fn one_extra_step_is_one_error_and_the_rest_is_accepted() {
    let def = seq(r#""start", "a", "b", "c", "a", "d", "end""#);
    // An extra `a`, a label the definition expects again later.
    assert_eq!(
        check(&def, &["start", "a", "a", "b", "c", "a", "d", "end"]),
        [
            "start ok",
            "a ok",
            "a ERROR want b",
            "b ok",
            "c ok",
            "a ok",
            "d ok",
            "end ok",
            "part 1 Reject missing [] errors 1"
        ]
    );
    // A foreign step.
    assert_eq!(
        check(&def, &["start", "a", "zz", "b", "c", "a", "d", "end"]),
        [
            "start ok",
            "a ok",
            "zz ERROR want b",
            "b ok",
            "c ok",
            "a ok",
            "d ok",
            "end ok",
            "part 1 Reject missing [] errors 1"
        ]
    );
}

#[test]
fn an_extra_step_that_the_next_slot_expects_is_judged_by_what_follows() {
    // `start a a` reads first as "b was skipped"; `b` then shows that the
    // second `a` was the extra one. The error is sent with `b`, the step that
    // revealed it, and the part summary holds the final explanation.
    let def = seq(r#""start", "a", "b", "a", "c", "end""#);
    assert_eq!(
        check(&def, &["start", "a", "a", "b", "a", "c", "end"]),
        [
            "start ok",
            "a ok",
            "a ok",
            "b ERROR want c",
            "a ok",
            "c ok",
            "end ok",
            "part 1 Reject missing [] errors 1"
        ]
    );
}

#[test]
fn one_skipped_step_is_missing_once_and_the_rest_is_accepted() {
    let def = seq(r#""start", "a", "b", "c", "d", "e", "end""#);
    assert_eq!(
        check(&def, &["start", "a", "c", "d", "e", "end"]),
        [
            "start ok",
            "a ok",
            "c ok",
            "d ok",
            "e ok",
            "end ok",
            "part 1 Reject missing [b] errors 0"
        ]
    );
}

#[test]
fn a_jump_over_several_steps_is_an_error_then_the_checker_follows() {
    let def = seq(r#""start", "a", "b", "c", "d", "e", "end""#);
    assert_eq!(
        check(&def, &["start", "a", "d", "e", "end"]),
        [
            "start ok",
            "a ok",
            "d ERROR want b",
            "e ok",
            "end ok",
            "part 1 Reject missing [b c] errors 1"
        ]
    );
}

#[test]
fn a_swap_is_an_error_but_nothing_is_missing() {
    let def = seq(r#""start", "a", "b", "c", "d", "end""#);
    assert_eq!(
        check(&def, &["start", "a", "c", "b", "d", "end"]),
        [
            "start ok",
            "a ok",
            "c ok",
            "b ERROR want d",
            "d ok",
            "end ok",
            "part 1 Reject missing [] errors 1"
        ]
    );
}

#[test]
fn repeats_are_counted_in_what_is_missing() {
    let def = seq(r#""start", { repeat = 3, steps = ["a", "b"] }, "end""#);
    assert_eq!(
        check(&def, &["start", "a", "b", "end"]).last().map(String::as_str),
        Some("part 1 Reject missing [a b a b] errors 0")
    );
    assert_eq!(
        check(&def, &["start", "a", "b", "a", "b", "a", "b", "a", "b", "end"])
            .last()
            .map(String::as_str),
        Some("part 1 Reject missing [] errors 2")
    );
}

#[test]
fn nested_repeats_expand() {
    let def = seq(r#""start", { repeat = 2, steps = ["a", { repeat = 2, steps = ["b"] }] }, "end""#);
    let events = check(&def, &["start", "a", "b", "b", "a", "b", "b", "end"]);
    assert_eq!(
        events.last().map(String::as_str),
        Some("part 1 Pass missing [] errors 0")
    );
}

#[test]
fn optional_steps_may_be_done_or_left_out() {
    let def = seq(r#""start", "a", { optional = "inspect" }, "b", { optional = ["x", "y"] }, "end""#);
    for run in [
        vec!["start", "a", "b", "end"],
        vec!["start", "a", "inspect", "b", "end"],
        vec!["start", "a", "b", "y", "end"],
        vec!["start", "a", "inspect", "b", "x", "y", "end"],
    ] {
        assert_eq!(
            check(&def, &run).last().map(String::as_str),
            Some("part 1 Pass missing [] errors 0"),
            "{run:?}"
        );
    }
    // The error lists the optional step beside the required one.
    assert_eq!(check(&def, &["start", "a", "zz"])[2], "zz ERROR want inspect|b");
}

#[test]
fn any_order_accepts_every_order_but_needs_all() {
    let def = seq(r#""start", { any_order = ["a", "b", "c"] }, "end""#);
    for run in [["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]] {
        let labels: Vec<&str> = std::iter::once("start").chain(run).chain(["end"]).collect();
        assert_eq!(
            check(&def, &labels).last().map(String::as_str),
            Some("part 1 Pass missing [] errors 0")
        );
    }
    assert_eq!(
        check(&def, &["start", "c", "a", "end"]).last().map(String::as_str),
        Some("part 1 Reject missing [b] errors 0")
    );
}

#[test]
fn a_new_part_closes_the_open_one_with_what_it_lacks() {
    let def = seq(r#""start", "a", "b", "end""#);
    assert_eq!(
        check(&def, &["start", "a", "start", "a", "b", "end"]),
        [
            "start ok",
            "a ok",
            "part 1 Reject missing [b end] errors 0",
            "start ok",
            "a ok",
            "b ok",
            "end ok",
            "part 2 Pass missing [] errors 0"
        ]
    );
}

#[test]
fn the_end_of_input_leaves_an_open_part_incomplete() {
    let def = seq(r#""start", "a", "b", "end""#);
    assert_eq!(
        check(&def, &["start", "a"]).last().map(String::as_str),
        Some("part 1 Incomplete missing [b end] errors 0")
    );
    assert_eq!(check(&def, &[]), Vec::<String>::new());
}

#[test]
fn an_early_final_step_closes_the_part_with_the_rest_missing() {
    let def = seq(r#""start", "a", "b", "end""#);
    assert_eq!(
        check(&def, &["start", "end"]),
        ["start ok", "end ok", "part 1 Reject missing [a b] errors 0"]
    );
}

#[test]
fn steps_before_the_opening_step_belong_to_the_part() {
    let def = seq(r#""start", "a", "end""#);
    // A stray step while no part is open is an error of the part it opens;
    // the opening step then continues that part rather than closing it.
    assert_eq!(
        check(&def, &["zz", "start", "a", "end"]),
        [
            "zz ERROR want start",
            "start ok",
            "a ok",
            "end ok",
            "part 1 Reject missing [] errors 1"
        ]
    );
    // A part seen from its middle (the station started late) is never passed.
    assert_eq!(
        check(&def, &["a", "end"]),
        ["a ok", "end ok", "part 1 Reject missing [start] errors 0"]
    );
}

#[test]
fn a_runaway_part_is_closed_to_bound_memory() {
    let def = seq(r#""start", "a", "end""#);
    let mut labels = vec!["start"];
    labels.extend(std::iter::repeat_n("zz", MAX_PART_OCCURRENCES));
    let events = check(&def, &labels);
    let closed = events.iter().find(|e| e.starts_with("part 1")).expect("part 1 closed");
    assert_eq!(
        closed,
        &format!("part 1 Reject missing [a end] errors {}", MAX_PART_OCCURRENCES - 1)
    );
    assert!(events.last().is_some_and(|e| e.starts_with("part 2 Incomplete")));
}

#[test]
fn the_checker_says_what_it_expects_next() {
    let def = seq(r#""start", "a", { optional = "x" }, "b", "end""#);
    let mut checker = Checker::new(&def);
    assert_eq!(checker.expected_next(), ["start"]);
    for label in ["start", "a"] {
        checker.observe(&Occurrence {
            t: 0.0,
            label: label.into(),
            p: 0.9,
        });
    }
    assert_eq!(checker.expected_next(), ["x", "b"]);
}

#[test]
fn part_events_carry_time_and_number() {
    let def = seq(r#""start", "end""#);
    let mut checker = Checker::new(&def);
    let open = |t: f64, label: &str| Occurrence {
        t,
        label: label.into(),
        p: 0.7,
    };
    assert!(checker.observe(&open(3.0, "start")).len() == 1);
    assert_eq!(checker.open_part(), Some(1));
    let events = checker.observe(&open(9.5, "end"));
    let Some(Event::Part(part)) = events.last() else {
        panic!("no part event: {events:?}")
    };
    assert_eq!((part.t, part.part, part.verdict), (9.5, 1, Verdict::Pass));
    assert_eq!(checker.open_part(), None);
}

// --- Generated definitions and runs -------------------------------------------------

const REQUIRED: &[&str] = &["a", "b", "c", "d"];
/// Optional steps use their own labels, so that leaving out a required step can
/// never be mistaken for a different valid run.
const OPTIONAL: &[&str] = &["o1", "o2", "o3"];

fn element() -> impl Strategy<Value = Element> {
    let leaf = prop_oneof![
        4 => prop::sample::select(REQUIRED).prop_map(|l| Element::Step(l.into())),
        1 => prop::collection::vec(prop::sample::select(OPTIONAL), 1..3)
            .prop_map(|ls| Element::Optional(ls.into_iter().map(String::from).collect())),
        1 => prop::collection::vec(prop::sample::select(REQUIRED), 2..4)
            .prop_map(|ls| Element::AnyOrder(ls.into_iter().map(String::from).collect())),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        (1u32..4, prop::collection::vec(inner, 1..3)).prop_map(|(count, steps)| Element::Repeat { count, steps })
    })
}

fn generated_definition() -> impl Strategy<Value = Definition> {
    prop::collection::vec(element(), 1..5).prop_map(|middle| {
        let mut steps = vec![Element::Step("start".into())];
        steps.extend(middle);
        steps.push(Element::Step("end".into()));
        Definition {
            name: "generated".into(),
            final_step: "end".into(),
            steps,
        }
    })
}

fn definition_and_run() -> impl Strategy<Value = (Definition, Vec<String>)> {
    (generated_definition(), prop::collection::vec(any::<usize>(), 1..16)).prop_map(|(def, choices)| {
        let mut choices = choices.into_iter().cycle();
        let run = def.sample_run(&mut |n| choices.next().unwrap_or(0) % n);
        (def, run)
    })
}

fn events_of(def: &Definition, labels: &[String]) -> Vec<Event> {
    let mut checker = Checker::new(def);
    let mut events: Vec<Event> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, label)| {
            checker.observe(&Occurrence {
                t: i as f64,
                label: label.clone(),
                p: 0.9,
            })
        })
        .collect();
    events.extend(checker.finish(labels.len() as f64).map(Event::Part));
    events
}

fn error_steps(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Step(s) if s.status == StepStatus::Error))
        .count()
}

fn first_part(events: &[Event]) -> (usize, &crate::event::PartSummary) {
    events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match e {
            Event::Part(p) => Some((i, p)),
            _ => None,
        })
        .expect("a part event")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_generated_run_passes((def, run) in definition_and_run()) {
        let events = events_of(&def, &run);
        prop_assert_eq!(error_steps(&events), 0);
        let (at, part) = first_part(&events);
        prop_assert_eq!(at, events.len() - 1);
        prop_assert_eq!(part.verdict, Verdict::Pass);
        prop_assert!(part.missing.is_empty());
        prop_assert_eq!(part.errors, 0);
    }

    #[test]
    fn deleting_a_required_step_names_exactly_that_step((def, run) in definition_and_run(), pick in any::<prop::sample::Index>()) {
        let at = pick.index(run.len());
        prop_assume!(!OPTIONAL.contains(&run[at].as_str()));
        let mut input = run.clone();
        let deleted = input.remove(at);
        // A second, good part follows, so that even a deleted final step gets judged.
        input.extend(run.iter().cloned());
        let events = events_of(&def, &input);
        let (end, part) = first_part(&events);
        prop_assert_eq!(error_steps(&events[..end]), 0);
        prop_assert_eq!(part.verdict, Verdict::Reject);
        prop_assert_eq!(&part.missing, &vec![deleted]);
        prop_assert_eq!(part.errors, 0);
    }

    #[test]
    fn inserting_a_foreign_step_gives_exactly_one_error((def, run) in definition_and_run(), pick in any::<prop::sample::Index>()) {
        let at = pick.index(run.len() + 1);
        let mut input = run.clone();
        input.insert(at, "foreign".into());
        let events = events_of(&def, &input);
        prop_assert_eq!(error_steps(&events), 1);
        let (_, part) = first_part(&events);
        if at < run.len() {
            prop_assert_eq!(part.verdict, Verdict::Reject);
            prop_assert!(part.missing.is_empty());
            prop_assert_eq!(part.errors, 1);
        } else {
            prop_assert_eq!(part.verdict, Verdict::Pass);
        }
    }
}

#[test]
fn progress_counts_required_steps_and_rounds_of_a_repeat() {
    let def = definition(SEED_GOOD);
    let mut checker = Checker::new(&def);
    assert_eq!(checker.progress(), None, "no part open");
    let run = seed_run();
    let mut seen = Vec::new();
    for (i, label) in run.iter().enumerate().take(run.len() - 1) {
        checker.observe(&Occurrence {
            t: i as f64,
            label: (*label).to_owned(),
            p: 0.9,
        });
        seen.push(checker.progress().expect("a part is open"));
    }
    let total = u32::try_from(run.len()).expect("small");
    assert!(seen.iter().all(|p| p.total == total), "{seen:?}");
    let done: Vec<u32> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, (1..total).collect::<Vec<_>>());
    // Steps 6..8 are the first round of the repeat; after step 8 one round is
    // complete and the second is under way. After the last round the count
    // stays at the last round until the group is left.
    assert_eq!(seen[4].repeat, None);
    assert_eq!(seen[5].repeat, Some((1, 4)));
    assert_eq!(seen[7].repeat, Some((2, 4)));
    assert_eq!(seen[16].repeat, Some((4, 4)));
    assert_eq!(seen[17].repeat, None);
}

#[test]
fn progress_follows_the_cheapest_explanation_past_a_skipped_step() {
    let def = seq(r#""start", "a", "b", "c", "end""#);
    let mut checker = Checker::new(&def);
    for (i, label) in ["start", "b", "c"].iter().enumerate() {
        checker.observe(&Occurrence {
            t: i as f64,
            label: (*label).to_owned(),
            p: 0.9,
        });
    }
    // `a` was skipped: c is the fourth required step of five.
    let progress = checker.progress().expect("open");
    assert_eq!((progress.done, progress.total), (4, 5));
}

#[test]
fn a_successor_checker_numbers_parts_after_its_predecessor() {
    let first = seq(r#""start", "end""#);
    let second = seq(r#""start", "a", "end""#);
    let mut checker = Checker::new(&first);
    for (i, label) in ["start", "end", "start", "end"].iter().enumerate() {
        checker.observe(&Occurrence {
            t: i as f64,
            label: (*label).to_owned(),
            p: 0.9,
        });
    }
    let mut next = checker.successor(&second);
    let events = next.observe(&Occurrence {
        t: 5.0,
        label: "start".into(),
        p: 0.9,
    });
    assert!(matches!(&events[..], [Event::Step(s)] if s.part == 3), "{events:?}");
    assert_eq!(next.expected_next(), vec!["a".to_owned()]);
}
