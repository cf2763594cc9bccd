//! Reading the station's files (its config with the model manifest and
//! sequences it names, recorded predictions), and what a command does when
//! that fails: problems in the input end it with exit code 2 and every
//! problem on stderr, one per line, as `file:line:column: field: reason`.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use actrec_core::config::StationConfig;
use actrec_core::decode::Window;
use actrec_core::diag::{Problem, Problems};
use actrec_core::manifest::{MANIFEST_FILE, Manifest};
use actrec_core::sequence::Definition;
use actrec_core::windows::WindowReader;

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The input is malformed: exit 2.
    #[error("{0}")]
    Input(#[from] Problems),
    /// The engine could not start: exit 1.
    #[error("{0}")]
    Start(#[from] crate::StationError),
    /// Writing the output failed: exit 1.
    #[error("cannot write output: {0}")]
    Output(io::Error),
}

impl Failure {
    pub fn report(&self) -> ExitCode {
        match self {
            Failure::Output(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Failure::Output(_) | Failure::Start(_) => {
                eprintln!("actrec: {self}");
                ExitCode::from(1)
            }
            Failure::Input(_) => {
                eprintln!("{self}");
                ExitCode::from(2)
            }
        }
    }
}

/// A problem with a whole file, such as one that cannot be read.
pub fn file_problem(path: &Path, message: impl Into<String>) -> Problem {
    Problem {
        origin: path.display().to_string(),
        line: 0,
        column: 0,
        field: String::new(),
        message: message.into(),
    }
}

pub fn read_text(path: &Path) -> Result<String, Problems> {
    std::fs::read_to_string(path).map_err(|err| Problems(vec![file_problem(path, format!("cannot read: {err}"))]))
}

/// A station config together with the model manifest and sequence it names,
/// each checked against the others.
pub struct LoadedStation {
    pub config: StationConfig,
    /// The folder of the config file: relative paths in it start here.
    pub config_dir: PathBuf,
    /// The config file itself (hashed into every verdict's audit row).
    pub config_path: PathBuf,
    pub manifest: Manifest,
    pub definition: Definition,
    /// The sequences the operator may select instead, with their files.
    pub alternatives: Vec<(PathBuf, Definition)>,
}

pub fn load_station(path: &Path) -> Result<LoadedStation, Problems> {
    let origin = path.display().to_string();
    let text = read_text(path)?;
    let config = StationConfig::parse(&origin, &text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();

    let manifest_path = config.model_dir(base).join(MANIFEST_FILE);
    let manifest = read_text(&manifest_path)
        .and_then(|t| Manifest::parse(&manifest_path.display().to_string(), &t))
        .map_err(|p| problems.extend(p.0))
        .ok();
    if let Some(manifest) = &manifest
        && let Err(p) = config.check_vocabulary(&origin, &text, &manifest.labels)
    {
        problems.extend(p.0);
    }

    let mut sequences = Vec::new();
    for path in config.sequence_files(base) {
        let vocabulary = manifest.as_ref().map(|m| config.vocabulary(&m.labels));
        let parsed = read_text(&path).and_then(|t| Definition::parse(&path.display().to_string(), &t, vocabulary));
        match parsed {
            Ok(definition) => {
                // The panel selects sequences by name.
                if sequences
                    .iter()
                    .any(|(_, d): &(PathBuf, Definition)| d.name == definition.name)
                {
                    problems.push(file_problem(
                        &path,
                        format!("a second sequence named `{}`: names must differ", definition.name),
                    ));
                }
                sequences.push((path, definition));
            }
            Err(p) => problems.extend(p.0),
        }
    }

    match manifest {
        Some(manifest) if problems.is_empty() && !sequences.is_empty() => {
            let (_, definition) = sequences.remove(0);
            Ok(LoadedStation {
                config,
                config_dir: base.to_owned(),
                config_path: path.to_owned(),
                manifest,
                definition,
                alternatives: sequences,
            })
        }
        _ => Err(Problems(problems)),
    }
}

/// Reads a model directory's manifest.
pub fn load_manifest(model_dir: &Path) -> Result<Manifest, Problems> {
    let path: PathBuf = model_dir.join(MANIFEST_FILE);
    Manifest::parse(&path.display().to_string(), &read_text(&path)?)
}

/// Window predictions from a JSON-lines file, all of them or the first problem.
pub fn read_windows(path: &Path) -> Result<Vec<Window>, Problems> {
    let text = read_text(path)?;
    let mut reader = WindowReader::new(&path.display().to_string());
    let mut windows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(window) = reader.line(i + 1, line).map_err(|p| Problems(vec![p]))? {
            windows.push(window);
        }
    }
    Ok(windows)
}
