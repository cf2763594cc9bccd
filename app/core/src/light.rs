//! The tower light and reject relay policy: a pure function of station state.
//!
//! The station is in one of these states, and the tower shows each one so:
//!
//! | state                                          | green  | amber  | red    | buzzer       |
//! |------------------------------------------------|--------|--------|--------|--------------|
//! | dead (no engine, no power): by wiring          | off    | off    | steady | off          |
//! | fault: any [`FaultKind`] (no video, inference  | off    | off    | steady | intermittent |
//! |   stalled, model behind, config error, audit   |        |        |        |              |
//! |   write failure, actuator, other)              |        |        |        |              |
//! | a reject not yet acknowledged                  | off    | *      | blink  | continuous   |
//! | waiting: no part yet, or the last part was     | off    | steady | off    | off          |
//! |   rejected (acknowledged) or incomplete        |        |        |        |              |
//! | a part in progress                             | off    | steady | off    | off          |
//! | idle after a part that passed                  | steady | off    | off    | off          |
//! | low-confidence warning (any healthy state)     | *      | blink  | *      | *            |
//!
//! `*`: as the other rules of the row's state say.
//!
//! Decisions, and why:
//!
//! - **A fault is steady red, a reject blinking red.** A dead station lights
//!   red through a relay's normally-closed contact (`docs/WIRING.md`), and a
//!   contact cannot blink; so steady red with nothing else lit always means
//!   "this station is not inspecting", whether the engine is alive and knows
//!   why (a fault) or gone. A reject is a different message, "a part needs a
//!   supervisor", and it blinks, as an unacknowledged alarm does by plant
//!   convention (ISA-18.2: flashing until acknowledged). Once acknowledged,
//!   red goes out and the station waits for the next part (amber).
//! - **Every fault shows the same.** The kind travels to the panel and the
//!   log; the tower only says "not inspecting". All other lamps are off in a
//!   fault, so no green or amber can suggest that parts are being checked.
//!   That holds for the kinds the audit log records too: an `actuator`
//!   fault (a lamp, relay or heartbeat line that could not be driven) asks
//!   for the state a dead station's wiring falls to anyway, so whatever
//!   lines still work agree with the ones that failed; `other` is a fault
//!   like any; an `engine_outage` is recorded at start, raised and cleared
//!   at once, for the time the engine was gone, when the wiring alone
//!   showed steady red.
//! - **Buzzer.** Continuous while a reject is unacknowledged; intermittent
//!   (blinking) while a fault lasts, so that an engine that knows it is broken
//!   is heard, and is told apart from one that is dead (silent: a buzzer that
//!   sounded whenever the station is unpowered would sound every night).
//!   Acknowledging silences a reject; a fault's buzzer stops when the fault
//!   clears.
//! - **Green only while healthy, idle, and the last part passed,** with no
//!   reject awaiting acknowledgement. It stays on after a pass until the next
//!   part starts, so the operator sees the verdict of the part in their hands;
//!   while a part is in progress its verdict is unknown, so green is off.
//! - **Amber** is steady while the station waits for a verdict: no part yet,
//!   a part in progress, or after a rejected or incomplete part once any
//!   reject is acknowledged. It blinks for an active low-confidence warning,
//!   which outranks waiting.
//! - **An incomplete part** (the input ended while it was open) never shows
//!   green: its quality is unknown. The engine treats it as a reject for the
//!   relay and the acknowledgement if it wants red and the buzzer.
//!
//! The reject relay ([`reject_relay`]) is held on every fault, as it is when
//! the station is dead (energise-to-run), and, in latch mode, while a reject
//! is unacknowledged. In pulse mode each rejected part's pulse is an event,
//! not a state; `actrec-io`'s `RejectRelay` times it.

use serde::{Deserialize, Serialize};

use crate::config::RejectMode;

/// Why the station is not inspecting: the one fault type of the workspace
/// (the tower, the panel, the event stream and the audit log). Ordered by
/// which the tower and panel name first when several hold. The serde names
/// are [`FaultKind::as_str`]'s, and the audit log stores them in its hashed
/// rows: rename none of them, add kinds instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// No frame from the source (lost, or never started).
    NoVideo,
    /// Inference produced no window for too long.
    InferenceStalled,
    /// Windows left out because frames were missing from them: the model
    /// branch falls behind a live source, which drops frames.
    ModelBehind,
    /// The config, model or sequence could not be loaded.
    ConfigError,
    /// A verdict could not be written to the audit log.
    AuditWriteFailure,
    /// A tower light, reject relay or heartbeat line could not be driven.
    Actuator,
    /// The engine was not running: its previous run was cut off (crash,
    /// kill, power cut) and it has started again. Recorded raised and
    /// cleared at once, at start.
    EngineOutage,
    /// Any other reason; the detail says which.
    Other,
}

impl FaultKind {
    pub const ALL: [FaultKind; 8] = [
        FaultKind::NoVideo,
        FaultKind::InferenceStalled,
        FaultKind::ModelBehind,
        FaultKind::ConfigError,
        FaultKind::AuditWriteFailure,
        FaultKind::Actuator,
        FaultKind::EngineOutage,
        FaultKind::Other,
    ];

    /// A short name for logs and the panel.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::NoVideo => "no_video",
            FaultKind::InferenceStalled => "inference_stalled",
            FaultKind::ModelBehind => "model_behind",
            FaultKind::ConfigError => "config_error",
            FaultKind::AuditWriteFailure => "audit_write_failure",
            FaultKind::Actuator => "actuator",
            FaultKind::EngineOutage => "engine_outage",
            FaultKind::Other => "other",
        }
    }

    /// The kind named by [`FaultKind::as_str`].
    pub fn parse(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    Healthy,
    Fault(FaultKind),
}

/// The verdict of the last closed part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LastVerdict {
    /// No part closed since the station started.
    #[default]
    None,
    Pass,
    Reject,
    Incomplete,
}

impl LastVerdict {
    pub const ALL: [LastVerdict; 4] = [
        LastVerdict::None,
        LastVerdict::Pass,
        LastVerdict::Reject,
        LastVerdict::Incomplete,
    ];
}

impl From<crate::event::Verdict> for LastVerdict {
    fn from(verdict: crate::event::Verdict) -> Self {
        match verdict {
            crate::event::Verdict::Pass => LastVerdict::Pass,
            crate::event::Verdict::Reject => LastVerdict::Reject,
            crate::event::Verdict::Incomplete => LastVerdict::Incomplete,
        }
    }
}

/// Everything the light and relay policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StationState {
    pub health: Health,
    /// A part has started (its first step was seen) and has not closed.
    pub part_in_progress: bool,
    pub last_verdict: LastVerdict,
    /// A low-confidence warning is active.
    pub low_confidence: bool,
    /// A rejected part awaits a supervisor's acknowledgement.
    pub reject_unacknowledged: bool,
}

impl StationState {
    /// The state at start: healthy, no part yet.
    pub const START: StationState = StationState {
        health: Health::Healthy,
        part_in_progress: false,
        last_verdict: LastVerdict::None,
        low_confidence: false,
        reject_unacknowledged: false,
    };
}

/// One lamp (or the buzzer): off, steady, or blinking (intermittent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lamp {
    #[default]
    Off,
    Steady,
    Blink,
}

/// What the tower light shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lights {
    pub green: Lamp,
    pub amber: Lamp,
    pub red: Lamp,
    pub buzzer: Lamp,
}

impl Lights {
    /// What a station shows while it is not inspecting: steady red, nothing
    /// else. The same as a dead station shows through its wiring.
    pub const NOT_INSPECTING: Lights = Lights {
        green: Lamp::Off,
        amber: Lamp::Off,
        red: Lamp::Steady,
        buzzer: Lamp::Off,
    };
}

/// The reject relay's state as the policy sees it; a pulse is an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relay {
    Released,
    /// Stop the line, or divert parts (however the relay is wired).
    Held,
}

/// The tower light for a station state. See the module docs for the rules.
pub fn lights(state: &StationState) -> Lights {
    if let Health::Fault(_) = state.health {
        return Lights {
            buzzer: Lamp::Blink,
            ..Lights::NOT_INSPECTING
        };
    }
    let unacknowledged = state.reject_unacknowledged;
    let idle_after_pass = !state.part_in_progress && state.last_verdict == LastVerdict::Pass;
    let green = if idle_after_pass && !unacknowledged {
        Lamp::Steady
    } else {
        Lamp::Off
    };
    let waiting = state.part_in_progress || !(idle_after_pass || unacknowledged);
    let amber = if state.low_confidence {
        Lamp::Blink
    } else if waiting {
        Lamp::Steady
    } else {
        Lamp::Off
    };
    let (red, buzzer) = if unacknowledged {
        (Lamp::Blink, Lamp::Steady)
    } else {
        (Lamp::Off, Lamp::Off)
    };
    Lights {
        green,
        amber,
        red,
        buzzer,
    }
}

/// The reject relay for a station state: held on every fault, and in latch
/// mode while a reject is unacknowledged. Pulses are timed by the caller.
pub fn reject_relay(state: &StationState, mode: RejectMode) -> Relay {
    let fault = matches!(state.health, Health::Fault(_));
    let latched = mode == RejectMode::Latch && state.reject_unacknowledged;
    if fault || latched { Relay::Held } else { Relay::Released }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEALTH: [Health; 5] = [
        Health::Healthy,
        Health::Fault(FaultKind::NoVideo),
        Health::Fault(FaultKind::InferenceStalled),
        Health::Fault(FaultKind::ConfigError),
        Health::Fault(FaultKind::AuditWriteFailure),
    ];

    /// Every state the policy can see: 5 × 2 × 4 × 2 × 2 = 160.
    fn every_state() -> Vec<StationState> {
        let mut states = Vec::new();
        for health in HEALTH {
            for part_in_progress in [false, true] {
                for last_verdict in LastVerdict::ALL {
                    for low_confidence in [false, true] {
                        for reject_unacknowledged in [false, true] {
                            states.push(StationState {
                                health,
                                part_in_progress,
                                last_verdict,
                                low_confidence,
                                reject_unacknowledged,
                            });
                        }
                    }
                }
            }
        }
        states
    }

    fn lamp(c: u8) -> Lamp {
        match c {
            b'.' => Lamp::Off,
            b'S' => Lamp::Steady,
            b'B' => Lamp::Blink,
            other => panic!("bad lamp code {}", other as char),
        }
    }

    /// `"GARZ"`-ordered codes (green, amber, red, buzzer): `.` off, `S` steady, `B` blink.
    fn shown(code: &str) -> Lights {
        let c = code.as_bytes();
        Lights {
            green: lamp(c[0]),
            amber: lamp(c[1]),
            red: lamp(c[2]),
            buzzer: lamp(c[3]),
        }
    }

    /// Every healthy state, written out: (in progress, last verdict, low
    /// confidence, reject unacknowledged) → green amber red buzzer.
    const HEALTHY: [(bool, LastVerdict, bool, bool, &str); 32] = {
        use LastVerdict::{Incomplete as I, None as N, Pass as P, Reject as R};
        [
            // idle
            (false, N, false, false, ".S.."),
            (false, N, false, true, "..BS"),
            (false, N, true, false, ".B.."),
            (false, N, true, true, ".BBS"),
            (false, P, false, false, "S..."),
            (false, P, false, true, "..BS"),
            (false, P, true, false, "SB.."),
            (false, P, true, true, ".BBS"),
            (false, R, false, false, ".S.."),
            (false, R, false, true, "..BS"),
            (false, R, true, false, ".B.."),
            (false, R, true, true, ".BBS"),
            (false, I, false, false, ".S.."),
            (false, I, false, true, "..BS"),
            (false, I, true, false, ".B.."),
            (false, I, true, true, ".BBS"),
            // a part in progress: amber whatever came before
            (true, N, false, false, ".S.."),
            (true, N, false, true, ".SBS"),
            (true, N, true, false, ".B.."),
            (true, N, true, true, ".BBS"),
            (true, P, false, false, ".S.."),
            (true, P, false, true, ".SBS"),
            (true, P, true, false, ".B.."),
            (true, P, true, true, ".BBS"),
            (true, R, false, false, ".S.."),
            (true, R, false, true, ".SBS"),
            (true, R, true, false, ".B.."),
            (true, R, true, true, ".BBS"),
            (true, I, false, false, ".S.."),
            (true, I, false, true, ".SBS"),
            (true, I, true, false, ".B.."),
            (true, I, true, true, ".BBS"),
        ]
    };

    #[test]
    fn every_healthy_state_shows_its_table_row() {
        for (part_in_progress, last_verdict, low_confidence, reject_unacknowledged, code) in HEALTHY {
            let state = StationState {
                health: Health::Healthy,
                part_in_progress,
                last_verdict,
                low_confidence,
                reject_unacknowledged,
            };
            assert_eq!(lights(&state), shown(code), "{state:?}");
        }
    }

    #[test]
    fn every_fault_shows_steady_red_and_an_intermittent_buzzer_whatever_else_holds() {
        let faulty: Vec<_> = every_state()
            .into_iter()
            .filter(|s| s.health != Health::Healthy)
            .collect();
        assert_eq!(faulty.len(), 4 * 32);
        for state in faulty {
            assert_eq!(lights(&state), shown("..SB"), "{state:?}");
        }
    }

    #[test]
    fn the_table_covers_every_healthy_state_once() {
        let mut rows: Vec<_> = HEALTHY.iter().map(|r| (r.0, r.1, r.2, r.3)).collect();
        rows.sort_by_key(|r| format!("{r:?}"));
        rows.dedup();
        assert_eq!(rows.len(), 32);
        assert_eq!(every_state().len(), 160);
    }

    /// Invariants, over all 160 states, stated apart from the table.
    #[test]
    fn invariants_hold_in_every_state() {
        for state in every_state() {
            let shown = lights(&state);
            let healthy = state.health == Health::Healthy;
            // Green means healthy, idle, passed, nothing to acknowledge.
            assert_eq!(
                shown.green != Lamp::Off,
                healthy
                    && !state.part_in_progress
                    && state.last_verdict == LastVerdict::Pass
                    && !state.reject_unacknowledged,
                "{state:?}"
            );
            // Red means a fault or an unacknowledged reject; never with green.
            assert_eq!(
                shown.red != Lamp::Off,
                !healthy || state.reject_unacknowledged,
                "{state:?}"
            );
            assert!(shown.green == Lamp::Off || shown.red == Lamp::Off, "{state:?}");
            // Steady red alone is "not inspecting": only for faults.
            assert_eq!(shown.red == Lamp::Steady, !healthy, "{state:?}");
            // The buzzer sounds only for a fault or an unacknowledged reject.
            assert_eq!(
                shown.buzzer != Lamp::Off,
                !healthy || state.reject_unacknowledged,
                "{state:?}"
            );
            // A healthy station always shows green, amber or red: never a dark tower.
            if healthy {
                assert!(
                    shown.green != Lamp::Off || shown.amber != Lamp::Off || shown.red != Lamp::Off,
                    "{state:?}"
                );
                // A low-confidence warning always blinks amber.
                assert_eq!(shown.amber == Lamp::Blink, state.low_confidence, "{state:?}");
            }
        }
    }

    #[test]
    fn the_relay_is_held_on_faults_and_on_an_unacknowledged_reject_in_latch_mode() {
        for state in every_state() {
            let fault = state.health != Health::Healthy;
            assert_eq!(
                reject_relay(&state, RejectMode::Latch),
                if fault || state.reject_unacknowledged {
                    Relay::Held
                } else {
                    Relay::Released
                },
                "{state:?}"
            );
            assert_eq!(
                reject_relay(&state, RejectMode::Pulse),
                if fault { Relay::Held } else { Relay::Released },
                "{state:?}"
            );
        }
    }

    /// The kinds outside the 160-state table (model behind and those the
    /// audit log records) show what every fault shows, in every state.
    #[test]
    fn every_fault_kind_shows_not_inspecting_and_holds_the_relay() {
        for kind in FaultKind::ALL {
            for state in every_state() {
                let state = StationState {
                    health: Health::Fault(kind),
                    ..state
                };
                assert_eq!(lights(&state), shown("..SB"), "{state:?}");
                for mode in [RejectMode::Latch, RejectMode::Pulse] {
                    assert_eq!(reject_relay(&state, mode), Relay::Held, "{state:?}");
                }
            }
        }
    }

    /// The names are the audit log's stored ones: its rows are hashed, so
    /// they never change.
    #[test]
    fn fault_names_are_the_stored_ones_and_serde_agrees() {
        let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "no_video",
                "inference_stalled",
                "model_behind",
                "config_error",
                "audit_write_failure",
                "actuator",
                "engine_outage",
                "other"
            ]
        );
        for kind in FaultKind::ALL {
            let json = serde_json::to_string(&kind).expect("a string");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<FaultKind>(&json).expect("read back"), kind);
            assert_eq!(FaultKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(FaultKind::parse("fire"), None);
        let mut sorted = FaultKind::ALL;
        sorted.sort();
        assert_eq!(sorted, FaultKind::ALL, "ALL is in the order the tower names them");
    }

    #[test]
    fn start_state_waits_on_amber() {
        assert_eq!(lights(&StationState::START), shown(".S.."));
        assert_eq!(reject_relay(&StationState::START, RejectMode::Latch), Relay::Released);
        assert_eq!(
            LastVerdict::from(crate::event::Verdict::Incomplete),
            LastVerdict::Incomplete
        );
    }
}
