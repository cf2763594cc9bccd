use std::path::{Path, PathBuf};

use super::*;

const GOOD: &str = r#"
[station]
id = "line-3"
data_dir = "/var/lib/actrec"
source = "demo"

[sources.demo.file]
path = "demo.mp4"
loop = true

[sources.cam.rtp]
port = 5000
multicast = "239.1.1.1"

[model]
dir = "models/demo"

[decoder]
min_confidence = 0.6
idle_labels = ["idle"]

[sequence]
file = "sequences/gear-housing.toml"

[outputs]
shm = { path = "/run/actrec/video" }

[gpio]
backend = "sim"

[audit]
path = "audit.sqlite"
"#;

fn problems(text: &str) -> Vec<String> {
    StationConfig::parse("station.toml", text)
        .expect_err("should be rejected")
        .iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn operator_and_sequence_alternatives_are_checked_where_written() {
    let bad = GOOD.replace(
        "file = \"sequences/gear-housing.toml\"",
        "file = \"sequences/gear-housing.toml\"\nalternatives = [\"sequences/gear-housing.toml\"]",
    ) + "\n[operator]\nsocket = \"/run/actrec/engine.sock\"\nsupervisor_pin = \"1234\"\n";
    let found = problems(&bad);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("sequence.alternatives[0]: `sequences/gear-housing.toml` is listed twice"),
        "{found:?}"
    );
    assert!(
        found[1].contains("operator.supervisor_pin: not a PIN hash") && found[1].contains("actrec hash-pin"),
        "{found:?}"
    );
    let config = StationConfig::parse("station.toml", GOOD).expect("good");
    assert_eq!(config.operator, Operator::default());
    assert_eq!(config.socket(Path::new("/etc/actrec")), None);
}

#[test]
fn parses_a_good_config() {
    let config = StationConfig::parse("station.toml", GOOD).expect("valid");
    assert_eq!(config.station.id, "line-3");
    assert_eq!(
        config.sources["demo"],
        Source::File {
            path: "demo.mp4".into(),
            looping: true,
            pace: Pace::Realtime
        }
    );
    assert_eq!(config.media, Media::default());
    assert_eq!(config.decoder.min_confidence, 0.6);
    assert_eq!(config.decoder.min_windows, 1);
    assert_eq!(
        config.audit_path(Path::new("/etc/actrec")),
        PathBuf::from("/var/lib/actrec/audit.sqlite")
    );
    assert_eq!(
        config.model_dir(Path::new("/etc/actrec")),
        PathBuf::from("/etc/actrec/models/demo")
    );
}

#[test]
fn reports_problems_in_every_section() {
    let bad = GOOD
        .replace("source = \"demo\"", "source = \"dmeo\"")
        .replace("port = 5000", "port = 0")
        .replace("239.1.1.1", "10.0.0.1")
        .replace("min_confidence = 0.6", "min_confidence = 1.6")
        .replace("[audit]\npath", "[audit]\npaht");
    assert_eq!(
        problems(&bad),
        vec![
            "station.toml:32:1: audit.paht: unknown field `paht`, expected one of `path`, `max_megabytes`, `max_days`, `mount_roots`",
            "station.toml:5:10: station.source: source `dmeo` is not configured; [sources] has: cam, demo",
            "station.toml:12:8: sources.cam.rtp.port: port must be from 1 to 65535",
            "station.toml:13:13: sources.cam.rtp.multicast: 10.0.0.1 is not a multicast address",
            "station.toml:19:18: decoder.min_confidence: min_confidence = 1.6 must be greater than 0 and at most 1",
        ]
    );
}

#[test]
fn the_stall_limit_defaults_to_five_seconds_and_is_bounded() {
    let config = StationConfig::parse("station.toml", GOOD).expect("valid");
    assert_eq!(config.model.stall_seconds, 5);
    let slow = GOOD.replace("[model]\n", "[model]\nstall_seconds = 60\n");
    let config = StationConfig::parse("station.toml", &slow).expect("valid");
    assert_eq!(config.model.stall_seconds, 60);
    let bad = GOOD.replace("[model]\n", "[model]\nstall_seconds = 0\n");
    let found = problems(&bad);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("model.stall_seconds: stall_seconds = 0 must be from 1 to 600"),
        "{found:?}"
    );
}

#[test]
fn tensorrt_settings_default_resolve_and_are_checked() {
    let config = StationConfig::parse("/etc/actrec/station.toml", GOOD).expect("valid");
    let tensorrt = config.inference(Path::new("/etc/actrec")).tensorrt;
    // A bare library name is left to the loader; engines live in the data directory.
    assert_eq!(tensorrt.shim, PathBuf::from("libactrec_trt.so.2"));
    assert_eq!(tensorrt.precision, Precision::Fp16);
    assert_eq!(
        tensorrt.engines_dir,
        Path::new("/etc/actrec").join(&config.station.data_dir).join("engines")
    );
    let named = GOOD.replace(
        "dir = \"models/demo\"\n",
        "dir = \"models/demo\"\n\n[model.tensorrt]\nshim = \"lib/libactrec_trt.so.2\"\nprecision = \"int8\"\nengines_dir = \"/opt/engines\"\npreprocess = \"gpu\"\n",
    );
    let config = StationConfig::parse("station.toml", &named).expect("valid");
    let tensorrt = config.inference(Path::new("/etc/actrec")).tensorrt;
    assert_eq!(tensorrt.shim, PathBuf::from("/etc/actrec/lib/libactrec_trt.so.2"));
    assert_eq!(tensorrt.precision, Precision::Int8);
    assert_eq!(tensorrt.engines_dir, PathBuf::from("/opt/engines"));
    assert_eq!(tensorrt.preprocess, PreprocessOn::Gpu);
    let bad = GOOD.replace(
        "dir = \"models/demo\"\n",
        "dir = \"models/demo\"\n\n[model.tensorrt]\nprecision = \"int4\"\n",
    );
    let found = problems(&bad);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("model.tensorrt.precision: unknown variant `int4`, expected one of `fp32`, `fp16`, `int8`"),
        "{found:?}"
    );
}

#[test]
fn audit_retention_and_mount_roots() {
    let config = StationConfig::parse("station.toml", GOOD).expect("valid");
    assert_eq!(config.audit.max_megabytes, 1024);
    assert_eq!(config.audit.max_days, None);
    assert_eq!(
        config.audit.mount_roots,
        vec![PathBuf::from("/run/media"), PathBuf::from("/media")]
    );
    let set = GOOD.replace(
        "path = \"audit.sqlite\"",
        "path = \"audit.sqlite\"\nmax_megabytes = 64\nmax_days = 365\nmount_roots = [\"/mnt/usb\"]",
    );
    let config = StationConfig::parse("station.toml", &set).expect("valid");
    assert_eq!((config.audit.max_megabytes, config.audit.max_days), (64, Some(365)));
    assert_eq!(config.audit.mount_roots, vec![PathBuf::from("/mnt/usb")]);
    let bad = GOOD.replace(
        "path = \"audit.sqlite\"",
        "path = \"audit.sqlite\"\nmax_megabytes = 0\nmax_days = 0\nmount_roots = [\"/media\", \"usb\", \"/media\", \"/\"]",
    );
    assert_eq!(
        problems(&bad),
        vec![
            "station.toml:33:17: audit.max_megabytes: max_megabytes = 0 must be from 1 to 1048576",
            "station.toml:34:12: audit.max_days: max_days = 0 must be from 1 to 36500; leave it out to keep rows whatever their age",
            "station.toml:35:26: audit.mount_roots[1]: mount root `usb` must be an absolute path below /",
            "station.toml:35:33: audit.mount_roots[2]: mount root `/media` is listed twice",
            "station.toml:35:43: audit.mount_roots[3]: mount root `/` must be an absolute path below /",
        ]
    );
    let typo = GOOD.replace("path = \"audit.sqlite\"", "path = \"audit.sqlite\"\nmax_mb = 5");
    assert_eq!(
        problems(&typo),
        vec![
            "station.toml:33:1: audit.max_mb: unknown field `max_mb`, expected one of `path`, `max_megabytes`, `max_days`, `mount_roots`"
        ]
    );
}

#[test]
fn type_errors_and_unknown_sections_are_located() {
    let bad = GOOD
        .replace("port = 5000", "port = \"5000\"")
        .replace("[audit]", "[audti]");
    let found = problems(&bad);
    assert_eq!(
        found[0],
        "station.toml:31:1: audti: unknown section `audti`, expected one of: station, sources, media, model, decoder, sequence, outputs, gpio, audit, operator"
    );
    assert!(
        found[1].starts_with("station.toml:12:8: sources.cam.rtp.port: invalid type: string \"5000\""),
        "{found:?}"
    );
    assert!(found[2].contains("audit: missing required section"), "{found:?}");
}

#[test]
fn media_settings_are_checked() {
    let bad = GOOD.replace(
        "[model]",
        "[media]\nprofile = \"jetson\"\ndisplay_width = 1281\nloss_timeout_ms = 2000\noverrides = { encoder = \" \" }\n\n[model]",
    );
    let found = problems(&bad);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("media.loss_timeout_ms: loss_timeout_ms = 2000 must be from 100 to 900"));
    assert!(found[1].contains("media.display_width: display width and height must be even"));
    assert!(found[2].contains("media.overrides.encoder: an override must not be empty"));
    let config = StationConfig::parse(
        "station.toml",
        &GOOD.replace("[model]", "[media]\nprofile = \"generic\"\n\n[model]"),
    )
    .expect("valid");
    assert_eq!(config.media.profile, ProfileChoice::Generic);
    assert_eq!(
        config.source("demo", Path::new("/etc/actrec")),
        Some(Source::File {
            path: "/etc/actrec/demo.mp4".into(),
            looping: true,
            pace: Pace::Realtime
        })
    );
}

#[test]
fn idle_labels_must_be_model_labels() {
    let config = StationConfig::parse("station.toml", GOOD).expect("valid");
    let labels = vec!["background".to_owned(), "spacer".to_owned()];
    let problems = config
        .check_vocabulary("station.toml", GOOD, &labels)
        .expect_err("idle unknown");
    assert_eq!(
        problems.to_string(),
        "station.toml:20:16: decoder.idle_labels[0]: idle label `idle` is not a label of the model (labels: background, spacer)"
    );
}

#[test]
fn hardware_gpio_needs_every_fail_safe_line() {
    let bad = GOOD.replace(
        "backend = \"sim\"",
        "backend = \"cdev\"\nlines.red = { chip = \"tegra-gpio\", offset = 12 }\nlines.reject = { chip = \"tegra-gpio\", offset = 12 }",
    );
    let found = problems(&bad);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("the `green` line is required"));
    assert!(found[1].contains("the `amber` line is required"));
    assert!(found[2].contains("gpio.lines.reject: tegra-gpio line 12 is already used by `red`"));
}

#[test]
fn gpio_defaults_to_a_latching_relay() {
    let config = StationConfig::parse("station.toml", GOOD).expect("valid");
    assert_eq!(config.gpio.reject_mode, RejectMode::Latch);
    assert_eq!(config.gpio.reject_pulse_ms(), None);
    assert_eq!(config.gpio.blink_ms, 1000);
    assert_eq!(
        config.gpio.sim_file_in(&config.data_dir(Path::new("/etc/actrec"))),
        PathBuf::from("/var/lib/actrec/gpio-sim.jsonl")
    );
    let pulse = GOOD.replace("backend = \"sim\"", "backend = \"sim\"\nreject_mode = \"pulse\"");
    let config = StationConfig::parse("station.toml", &pulse).expect("valid");
    assert_eq!(config.gpio.reject_pulse_ms(), Some(Gpio::DEFAULT_PULSE_MS));
}

#[test]
fn gpio_timing_settings_are_checked() {
    let bad = GOOD.replace(
        "backend = \"sim\"",
        "backend = \"sim\"\npulse_ms = 300\nblink_ms = 50\nsim_file = \"\"",
    );
    assert_eq!(
        problems(&bad),
        vec![
            "station.toml:30:12: gpio.pulse_ms: pulse_ms only applies with reject_mode = \"pulse\"",
            "station.toml:31:12: gpio.blink_ms: blink_ms = 50 must be from 200 to 5000",
            "station.toml:32:12: gpio.sim_file: sim_file is empty",
        ]
    );
    let bad = GOOD.replace(
        "backend = \"sim\"",
        "backend = \"sim\"\nreject_mode = \"pulse\"\npulse_ms = 20",
    );
    assert_eq!(
        problems(&bad),
        vec!["station.toml:31:12: gpio.pulse_ms: pulse_ms = 20 must be from 50 to 10000"]
    );
    let bad = GOOD.replace("backend = \"sim\"", "backend = \"sim\"\nreject_mode = \"pules\"");
    let found = problems(&bad);
    assert!(
        found[0].starts_with("station.toml:30:15: gpio.reject_mode: unknown variant `pules`"),
        "{found:?}"
    );
    let bad = GOOD.replace("backend = \"sim\"", "backend = \"sim\"\nblink = 500");
    let found = problems(&bad);
    assert!(found[0].contains("gpio.blink: unknown field `blink`"), "{found:?}");
}

/// The shipped `config/gpio/*.toml` examples, spliced into a config in
/// place of its `[gpio]` section, load without a problem.
#[test]
fn gpio_example_files_parse() {
    let examples = [
        (
            "jetson-nano.toml",
            include_str!("../../../../config/gpio/jetson-nano.toml"),
            "tegra-gpio",
        ),
        (
            "agx-xavier.toml",
            include_str!("../../../../config/gpio/agx-xavier.toml"),
            "tegra194-gpio",
        ),
    ];
    for (name, example, chip) in examples {
        let text = GOOD.replace("[gpio]\nbackend = \"sim\"\n", example);
        assert_ne!(text, GOOD);
        let config = StationConfig::parse(name, &text).unwrap_or_else(|p| panic!("{name}: {p}"));
        let gpio = &config.gpio;
        assert_eq!(gpio.backend, GpioBackend::Cdev, "{name}");
        for line in [
            &gpio.lines.green,
            &gpio.lines.amber,
            &gpio.lines.red,
            &gpio.lines.reject,
        ] {
            let line = line
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: a fail-safe line is missing"));
            assert_eq!(line.chip, chip, "{name}");
        }
        // Red and reject are wired energise-to-run (docs/WIRING.md).
        assert!(gpio.lines.red.as_ref().is_some_and(|l| l.active_low), "{name}");
        assert!(gpio.lines.reject.as_ref().is_some_and(|l| l.active_low), "{name}");
        assert!(gpio.lines.heartbeat.is_some(), "{name}");
        // The same file with the sysfs backend is valid too.
        let sysfs = text.replace("backend = \"cdev\"", "backend = \"sysfs\"");
        assert!(StationConfig::parse(name, &sysfs).is_ok(), "{name}");
    }
}

#[test]
fn sources_are_checked_by_kind() {
    let bad = GOOD.replace(
        "[model]",
        "[sources.usb.v4l2]\ndevice = \"video0\"\nwidth = 0\nheight = 480\nframerate = 30\n\n[sources.ip.rtsp]\nurl = \"http://cam\"\n\n[model]",
    );
    let found = problems(&bad);
    assert!(
        found
            .iter()
            .any(|p| p.contains("sources.usb.v4l2.device: device `video0` must be under /dev/")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("sources.usb.v4l2.width: width and height")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("sources.ip.rtsp.url: url `http://cam` must start with rtsp://")),
        "{found:?}"
    );
}

/// Every station config shipped under `config/`, found by its `[station]`
/// table, so that a new one is covered without listing it here.
fn shipped_configs() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            let table: toml::Table = text.parse().ok()?;
            table.contains_key("station").then_some((path, text))
        })
        .collect()
}

fn round_trip(origin: &str, config: &StationConfig) -> String {
    let written = config.to_toml().unwrap_or_else(|e| panic!("{origin}: {e}"));
    let again = StationConfig::parse(origin, &written).unwrap_or_else(|p| panic!("{origin}: {p}\n{written}"));
    assert_eq!(&again, config, "{origin} written as:\n{written}");
    written
}

#[test]
fn shipped_configs_are_written_back_and_read_equal() {
    let shipped = shipped_configs();
    let names: Vec<_> = shipped
        .iter()
        .map(|(p, _)| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    assert!(shipped.len() >= 2, "found only {names:?}");
    for (path, text) in &shipped {
        let origin = path.display().to_string();
        let config = StationConfig::parse(&origin, text).unwrap_or_else(|p| panic!("{p}"));
        let written = round_trip(&origin, &config);
        // The PIN hash is written as it was read, not re-encoded.
        if let Some(pin) = &config.operator.supervisor_pin {
            assert!(written.contains(pin.as_str()), "{origin}: {written}");
        }
        // Defaults are written out: the reader's defaults cannot change the meaning.
        for key in [
            "preprocess = ",
            "precision = ",
            "stall_seconds = ",
            "loss_timeout_ms = ",
            "mount_roots = ",
        ] {
            assert!(written.contains(key), "{origin}: {key} missing from\n{written}");
        }
        // Resolved paths mean the same config from any directory.
        let dir = path.parent().expect("a directory");
        let resolved = config.with_paths_resolved(dir);
        round_trip(&origin, &resolved);
        let elsewhere = Path::new("/somewhere/else");
        assert_eq!(resolved.data_dir(elsewhere), config.data_dir(dir), "{origin}");
        assert_eq!(resolved.audit_path(elsewhere), config.audit_path(dir), "{origin}");
        assert_eq!(resolved.clips_dir(elsewhere), config.clips_dir(dir), "{origin}");
        assert_eq!(resolved.model_dir(elsewhere), config.model_dir(dir), "{origin}");
        assert_eq!(resolved.inference(elsewhere), config.inference(dir), "{origin}");
        assert_eq!(
            resolved.sequence_files(elsewhere),
            config.sequence_files(dir),
            "{origin}"
        );
        assert_eq!(resolved.socket(elsewhere), config.socket(dir), "{origin}");
        for name in config.sources.keys() {
            assert_eq!(
                resolved.source(name, elsewhere),
                config.source(name, dir),
                "{origin}: {name}"
            );
        }
    }
}

/// Every section and every kind of source and stream, with each optional
/// field set and every enum away from its default, survives a round trip.
#[test]
fn every_field_is_written_back_and_read_equal() {
    let rich = r#"
[station]
id = "line-7"
data_dir = "data"
source = "cam"

[sources.cam.rtp]
port = 5000
multicast = "239.1.1.1"
caps = "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"

[sources.file.file]
path = "clip.mp4"
loop = true
pace = "fast"

[sources.ip.rtsp]
url = "rtsps://192.0.2.10/stream1"
latency_ms = 80

[sources.usb.v4l2]
device = "/dev/video0"
format = "raw"
width = 640
height = 480
framerate = 15

[sources.csi.csi]
sensor_id = 1
width = 1920
height = 1080
framerate = 30

[sources.pattern.test]
pattern = "ball"

[sources.odd.pipeline]
description = "v4l2src device=/dev/video2 ! video/x-raw,format=YUY2"
live = true

[media]
profile = "jetson"
display_width = 1920
display_height = 1080
display_fps = 25
bitrate_kbps = 8000
loss_timeout_ms = 300
overrides = { decoder = "avdec_h264 max-threads=2", encoder = "x264enc tune=zerolatency" }

[model]
dir = "models/demo"
backend = "onnxruntime"
threads = 2
onnxruntime_library = "lib/libonnxruntime.so.1.32.0"
stall_seconds = 9

[model.tensorrt]
shim = "lib/libactrec_trt.so.2"
precision = "int8"
engines_dir = "/opt/engines"
preprocess = "gpu"

[decoder]
min_confidence = 0.65
min_windows = 3
idle_labels = ["idle", "background"]

[sequence]
file = "sequences/gear-housing.toml"
alternatives = ["sequences/gear-housing-short.toml", "sequences/gear-housing-bad.toml"]

[outputs]
preview = true
mp4 = { dir = "video", split = "time", segment_seconds = 600 }
stream = { rtsp = { port = 8554, path = "/annotated" } }
shm = { path = "/run/actrec/video.ring" }
clips = { dir = "clips", pre_roll_seconds = 3, max_seconds = 120 }

[gpio]
backend = "sysfs"
sysfs_root = "/sys/class/gpio"
reject_mode = "pulse"
pulse_ms = 300
blink_ms = 800
sim_file = "lines.jsonl"

[gpio.lines]
green = { chip = "tegra-gpio", offset = 149 }
amber = { chip = "tegra-gpio", offset = 200 }
red = { chip = "tegra-gpio", offset = 38, active_low = true }
reject = { chip = "tegra-gpio", offset = 216, active_low = true }
buzzer = { chip = "tegra-gpio", offset = 168 }
heartbeat = { chip = "tegra-gpio", offset = 194 }

[audit]
path = "audit.sqlite"
max_megabytes = 64
max_days = 365
mount_roots = []

[operator]
socket = "engine.sock"
supervisor_pin = "pbkdf2-sha256$60000$933c79978d0a2222d181931785adc1a8$a74fb3fa8affc7c78896474ce22e70d6900b57b8091e83cc2b00d1be5250f26e"
"#;
    let config = StationConfig::parse("rich.toml", rich).unwrap_or_else(|p| panic!("{p}"));
    round_trip("rich.toml", &config);
    // An RTP stream and the other enums' remaining names.
    let mut other = config.clone();
    other.outputs.stream = Some(StreamOutput::Rtp {
        host: "127.0.0.1".parse().expect("an address"),
        port: 5004,
    });
    other.outputs.mp4 = Some(Mp4Output {
        dir: "video".into(),
        split: Mp4Split::Part,
        segment_seconds: None,
    });
    other.gpio.backend = GpioBackend::Cdev;
    other.gpio.reject_mode = RejectMode::Latch;
    other.gpio.pulse_ms = None;
    other.media.profile = ProfileChoice::Generic;
    for backend in [ModelBackend::Auto, ModelBackend::Tensorrt, ModelBackend::Tract] {
        for precision in [Precision::Fp32, Precision::Fp16] {
            other.model.backend = backend;
            other.model.tensorrt.precision = precision;
            other.model.tensorrt.preprocess = PreprocessOn::Cpu;
            round_trip("other.toml", &other);
        }
    }
    // Sections left out come back as their defaults.
    let bare = StationConfig::parse("bare.toml", GOOD).expect("valid");
    round_trip("bare.toml", &bare);
}

/// The precision's serde name is its `name()`, which engine file names use.
#[test]
fn precision_names_are_its_serde_names() {
    for precision in [Precision::Fp32, Precision::Fp16, Precision::Int8] {
        let written = toml::Value::try_from(precision).expect("a string");
        assert_eq!(written.as_str(), Some(precision.name()));
    }
}
