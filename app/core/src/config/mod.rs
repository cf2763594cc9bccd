//! The station config (`config/station.toml`): the one file a plant engineer edits.
//!
//! Every section is loaded on its own, so a typo in one section does not hide
//! problems in another, and is then validated; every problem is reported with
//! file, line, column and field. Relative paths are resolved against the
//! config file's directory (`station.data_dir` too), except the audit database
//! and recordings, which live under `station.data_dir`.
//!
//! Checks that need other files (the model's labels, the sequence definition)
//! are made by the caller, which reads those files; see `actrec check-config`.
//!
//! One module per section, each with its types, its validation and the
//! accessors that resolve its paths: [`station`] (`[station]`, `[sources]`),
//! [`media`], [`model`] (`[model]`, `[model.tensorrt]`, the inference
//! settings), [`sequence`], [`operator`], [`outputs`], [`gpio`], [`audit`].
//! `[decoder]` is [`crate::decode::DecoderSettings`].
//!
//! Every type is `Serialize` too: [`StationConfig::to_toml`] writes a config
//! that [`StationConfig::parse`] reads back equal, so a tool that hands a
//! station its config (`actrec bench`) writes it from these types and
//! cannot drift from the schema.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::decode::DecoderSettings;
use crate::diag::{Problems, TomlDoc};
use crate::label::Vocabulary;

pub mod audit;
pub mod gpio;
pub mod media;
pub mod model;
pub mod operator;
pub mod outputs;
pub mod sequence;
pub mod station;
#[cfg(test)]
mod tests;

pub use audit::Audit;
pub use gpio::{Gpio, GpioBackend, GpioLine, GpioLines, RejectMode};
pub use media::{Media, MediaOverrides, ProfileChoice};
pub use model::{InferenceSettings, ModelBackend, ModelRef, Precision, PreprocessOn, TensorRtRef, TensorRtSettings};
pub use operator::Operator;
pub use outputs::{ClipOutput, Mp4Output, Mp4Split, Outputs, ShmOutput, StreamOutput};
pub use sequence::SequenceRef;
pub use station::{Pace, Source, Station, V4l2Format};

const SECTIONS: &[&str] = &[
    "station", "sources", "media", "model", "decoder", "sequence", "outputs", "gpio", "audit", "operator",
];

/// A whole station config. Field names are the section names: serialising
/// it gives the TOML file (see [`StationConfig::to_toml`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationConfig {
    pub station: Station,
    pub sources: BTreeMap<String, Source>,
    pub media: Media,
    pub model: ModelRef,
    pub decoder: DecoderSettings,
    pub sequence: SequenceRef,
    pub outputs: Outputs,
    pub gpio: Gpio,
    pub audit: Audit,
    pub operator: Operator,
}

/// For `skip_serializing_if`: a table left at its default is left out, as
/// an empty `[gpio.lines]` would only be noise.
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A config that cannot be written as TOML.
#[derive(Debug, thiserror::Error)]
#[error("the station config cannot be written as TOML: {0}")]
pub struct WriteError(#[from] toml::ser::Error);

impl StationConfig {
    /// Parses and validates a station config. `origin` names the file in problems.
    pub fn parse(origin: &str, text: &str) -> Result<Self, Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        report.deny_unknown_top_level(SECTIONS);
        let station = report.required::<Station>("station");
        let sources = report.required::<BTreeMap<String, Source>>("sources");
        let media = report.optional::<Media>("media").map(Option::unwrap_or_default);
        let model = report.required::<ModelRef>("model");
        let decoder = report
            .optional::<DecoderSettings>("decoder")
            .map(Option::unwrap_or_default);
        let sequence = report.required::<SequenceRef>("sequence");
        let outputs = report.optional::<Outputs>("outputs").map(Option::unwrap_or_default);
        let gpio = report.required::<Gpio>("gpio");
        let audit = report.required::<Audit>("audit");
        let operator = report.optional::<Operator>("operator").map(Option::unwrap_or_default);

        // Sections that loaded are checked even when others did not, so one
        // run shows every problem, in this order.
        if let Some(station) = &station {
            station::validate_station(station, sources.as_ref(), &mut report);
        }
        if let Some(sources) = &sources {
            station::validate_sources(sources, &mut report);
        }
        if let Some(media) = &media {
            media::validate_media(media, &mut report);
        }
        if let Some(decoder) = &decoder {
            for (field, message) in decoder.problems() {
                report.at(format!("decoder.{field}"), message);
            }
        }
        if let Some(model) = &model {
            model::validate_model(model, &mut report);
        }
        if let Some(sequence) = &sequence {
            sequence::validate_sequence(sequence, &mut report);
        }
        if let Some(operator) = &operator {
            operator::validate_operator(operator, &mut report);
        }
        if let Some(outputs) = &outputs {
            outputs::validate_outputs(outputs, &mut report);
        }
        if let Some(gpio) = &gpio {
            gpio::validate_gpio(gpio, &mut report);
        }
        if let Some(audit) = &audit {
            audit::validate_audit(audit, &mut report);
        }

        let config = match (
            station, sources, media, model, decoder, sequence, outputs, gpio, audit, operator,
        ) {
            (
                Some(station),
                Some(sources),
                Some(media),
                Some(model),
                Some(decoder),
                Some(sequence),
                Some(outputs),
                Some(gpio),
                Some(audit),
                Some(operator),
            ) => Some(StationConfig {
                station,
                sources,
                media,
                model,
                decoder,
                sequence,
                outputs,
                gpio,
                audit,
                operator,
            }),
            _ => None,
        };
        report.finish(config)
    }

    /// The config as TOML text that [`StationConfig::parse`] reads back to an
    /// equal value. Every setting is written out, defaults included, so the
    /// reader's defaults cannot change what it means; comments are not kept.
    /// Relative paths keep their meaning only beside the original file: see
    /// [`StationConfig::with_paths_resolved`] to write it elsewhere.
    pub fn to_toml(&self) -> Result<String, WriteError> {
        Ok(toml::to_string(self)?)
    }

    /// The same config with every path that is relative to the config
    /// file's directory joined to `config_dir`, so that it means the same
    /// wherever it is written. Paths under `station.data_dir` (audit
    /// database, recordings, clips, the panel's ring, engines, the GPIO sim
    /// record) stay relative to it, and a bare shim name stays for the
    /// loader to search.
    pub fn with_paths_resolved(&self, config_dir: &Path) -> StationConfig {
        let mut config = self.clone();
        config.station.data_dir = self.data_dir(config_dir);
        for (name, source) in &mut config.sources {
            if let Some(resolved) = self.source(name, config_dir) {
                *source = resolved;
            }
        }
        config.model.dir = self.model_dir(config_dir);
        let inference = self.inference(config_dir);
        config.model.onnxruntime_library = inference.onnxruntime_library;
        config.model.tensorrt.shim = inference.tensorrt.shim;
        config.sequence.file = self.sequence_file(config_dir);
        config.sequence.alternatives = self.sequence_files(config_dir).split_off(1);
        config.operator.socket = self.socket(config_dir);
        config
    }

    /// Checks the idle labels against the configured model's labels. Takes the
    /// config's own text again so that each problem is located in it.
    pub fn check_vocabulary(&self, origin: &str, text: &str, model_labels: &[String]) -> Result<(), Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        for (i, label) in self.decoder.idle_labels.iter().enumerate() {
            if !model_labels.contains(label) {
                report.at(
                    format!("decoder.idle_labels[{i}]"),
                    format!(
                        "idle label `{label}` is not a label of the model (labels: {})",
                        model_labels.join(", ")
                    ),
                );
            }
        }
        report.finish(Some(()))
    }

    /// The station's vocabulary once the model's labels are known.
    pub fn vocabulary<'a>(&'a self, model_labels: &'a [String]) -> Vocabulary<'a> {
        Vocabulary {
            labels: model_labels,
            idle: &self.decoder.idle_labels,
        }
    }
}
