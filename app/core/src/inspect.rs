//! The inspection pipeline's pure end: windows in, station events out.
//!
//! `actrec check` drives it from a file; the live engine drives it from the
//! inference stage. Both get the same events from the same code.

use crate::decode::{Decoded, DecoderSettings, StepDecoder, Window};
use crate::event::Event;
use crate::sequence::{Checker, Definition, Progress};

#[derive(Debug)]
pub struct Inspector {
    decoder: StepDecoder,
    checker: Checker,
    last_t: f64,
}

impl Inspector {
    pub fn new(settings: DecoderSettings, definition: &Definition) -> Self {
        Self {
            decoder: StepDecoder::new(settings),
            checker: Checker::new(definition),
            last_t: 0.0,
        }
    }

    /// Feeds one window; returns the events it causes, in order.
    pub fn push(&mut self, window: &Window) -> Vec<Event> {
        self.last_t = window.t;
        match self.decoder.push(window) {
            None => Vec::new(),
            Some(Decoded::Warning(warning)) => vec![Event::Warning(warning)],
            Some(Decoded::Occurrence(occurrence)) => self.checker.observe(&occurrence),
        }
    }

    /// The steps the sequence accepts next without an error.
    pub fn expected_next(&self) -> Vec<String> {
        self.checker.expected_next()
    }

    /// Checks parts against another sequence from now on. Refused while a
    /// part is open (its verdict must come from the sequence it began with);
    /// the error is the open part's number.
    pub fn select_sequence(&mut self, definition: &Definition) -> Result<(), u32> {
        if let Some(open) = self.checker.open_part() {
            return Err(open);
        }
        self.checker = self.checker.successor(definition);
        Ok(())
    }

    /// Where the open part stands in its sequence.
    pub fn progress(&self) -> Option<Progress> {
        self.checker.progress()
    }

    /// The number of the part now open, if any.
    pub fn open_part(&self) -> Option<u32> {
        self.checker.open_part()
    }

    /// Ends the input: reports a part still open as incomplete.
    pub fn finish(&mut self) -> Vec<Event> {
        self.checker.finish(self.last_t).map(Event::Part).into_iter().collect()
    }

    /// Every event of a whole recording of windows, its end included.
    pub fn judge<'a>(mut self, windows: impl IntoIterator<Item = &'a Window>) -> Vec<Event> {
        let mut events: Vec<Event> = windows.into_iter().flat_map(|w| self.push(w)).collect();
        events.extend(self.finish());
        events
    }
}
