//! `actrec check`: the offline door to the station's step decoder and
//! sequence checker. The live engine runs the same `Inspector`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use actrec_core::decode::{DEFAULT_MIN_CONFIDENCE, DEFAULT_MIN_WINDOWS, DecoderSettings};
use actrec_core::diag::{Problem, Problems};
use actrec_core::event::{Event, Verdict};
use actrec_core::inspect::Inspector;
use actrec_core::label::Vocabulary;
use actrec_core::sequence::Definition;
use actrec_core::windows::WindowReader;

use crate::Format;
use actrec_ipc::EngineEvent;
use actrec_station::load::{Failure, file_problem, load_manifest, read_text};
use actrec_station::report;

#[derive(clap::Args)]
pub struct Args {
    /// The sequence definition (TOML).
    #[arg(long)]
    sequence: PathBuf,
    /// Window predictions, one JSON object per line; `-` reads stdin.
    #[arg(long)]
    windows: PathBuf,
    /// Windows below this top-1 probability give a warning.
    #[arg(long, default_value_t = DEFAULT_MIN_CONFIDENCE)]
    min_confidence: f64,
    /// Confident windows in a row that make one step occurrence.
    #[arg(long, default_value_t = DEFAULT_MIN_WINDOWS)]
    min_windows: u32,
    /// A label that means "no step"; repeat for several [default: idle, background].
    #[arg(long = "idle-label", value_name = "LABEL")]
    idle_labels: Vec<String>,
    /// A model directory: the sequence may then use only the model's labels.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let settings = decoder_settings(args)?;
    let definition = load_definition(args, &settings)?;
    let mut inspector = Inspector::new(settings, &definition);

    let stdout = io::stdout();
    let colour = args.format_is_text() && stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = Output {
        format: args.format,
        colour,
        writer: BufWriter::new(stdout.lock()),
        tally: Tally::default(),
    };
    out.header(&definition, &args.windows)?;

    let origin = args.windows.display().to_string();
    let input: Box<dyn BufRead> = if args.windows == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&args.windows)
            .map_err(|err| Problems(vec![file_problem(&args.windows, format!("cannot read: {err}"))]))?;
        Box::new(BufReader::new(file))
    };
    let mut reader = WindowReader::new(&origin);
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|err| {
            Problems(vec![Problem {
                line: i + 1,
                ..file_problem(&args.windows, format!("cannot read: {err}"))
            }])
        })?;
        // Events already written stay written: a malformed line stops the run
        // where it is, with everything before it reported.
        let window = match reader.line(i + 1, &line) {
            Ok(Some(window)) => window,
            Ok(None) => continue,
            Err(problem) => {
                out.flush()?;
                return Err(Problems(vec![problem]).into());
            }
        };
        for event in inspector.push(&window) {
            out.event(&event)?;
        }
    }
    for event in inspector.finish() {
        out.event(&event)?;
    }
    out.footer()?;
    out.flush()
}

impl Args {
    fn format_is_text(&self) -> bool {
        matches!(self.format, Format::Text)
    }
}

fn decoder_settings(args: &Args) -> Result<DecoderSettings, Problems> {
    let mut settings = DecoderSettings {
        min_confidence: args.min_confidence,
        min_windows: args.min_windows,
        ..DecoderSettings::default()
    };
    if !args.idle_labels.is_empty() {
        settings.idle_labels = args.idle_labels.clone();
    }
    let problems: Vec<Problem> = settings
        .problems()
        .into_iter()
        .map(|(field, message)| Problem {
            origin: "command line".into(),
            line: 0,
            column: 0,
            field: format!(
                "--{}",
                field
                    .split('[')
                    .next()
                    .unwrap_or(&field)
                    .replace("_labels", "-label")
                    .replace('_', "-")
            ),
            message,
        })
        .collect();
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(Problems(problems))
    }
}

fn load_definition(args: &Args, settings: &DecoderSettings) -> Result<Definition, Problems> {
    let manifest = args.model.as_deref().map(load_manifest).transpose()?;
    let vocabulary = manifest.as_ref().map(|m| Vocabulary {
        labels: &m.labels,
        idle: &settings.idle_labels,
    });
    let text = read_text(&args.sequence)?;
    Definition::parse(&args.sequence.display().to_string(), &text, vocabulary)
}

#[derive(Default)]
struct Tally {
    pass: u32,
    reject: u32,
    incomplete: u32,
    warnings: u32,
}

struct Output<W: Write> {
    format: Format,
    colour: bool,
    writer: W,
    tally: Tally,
}

impl<W: Write> Output<W> {
    fn header(&mut self, definition: &Definition, windows: &Path) -> Result<(), Failure> {
        match self.format {
            Format::Json => Ok(()),
            Format::Text => self.line(format!(
                "# sequence {} · windows {}",
                definition.name,
                windows.display()
            )),
        }
    }

    fn event(&mut self, event: &Event) -> Result<(), Failure> {
        match event {
            Event::Warning(_) => self.tally.warnings += 1,
            Event::Part(p) => match p.verdict {
                Verdict::Pass => self.tally.pass += 1,
                Verdict::Reject => self.tally.reject += 1,
                Verdict::Incomplete => self.tally.incomplete += 1,
            },
            Event::Step(_) => {}
        }
        match self.format {
            Format::Json => {
                let json =
                    serde_json::to_string(&EngineEvent::from(event)).map_err(|err| Failure::Output(err.into()))?;
                self.line(json)
            }
            Format::Text => {
                let text = self.text(event);
                self.line(text)
            }
        }
    }

    fn text(&self, event: &Event) -> String {
        report::text(event, self.colour)
    }

    fn footer(&mut self) -> Result<(), Failure> {
        let t = &self.tally;
        let summary = format!(
            "# {} part(s): {} pass, {} reject, {} incomplete; {} low-confidence warning(s)",
            t.pass + t.reject + t.incomplete,
            t.pass,
            t.reject,
            t.incomplete,
            t.warnings
        );
        match self.format {
            Format::Json => Ok(()),
            Format::Text => self.line(summary),
        }
    }

    fn line(&mut self, line: String) -> Result<(), Failure> {
        writeln!(self.writer, "{line}").map_err(Failure::Output)
    }

    fn flush(&mut self) -> Result<(), Failure> {
        self.writer.flush().map_err(Failure::Output)
    }
}
