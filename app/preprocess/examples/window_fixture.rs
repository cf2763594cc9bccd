//! Writes what the TensorRT shim's window check (app/infer/trt-shim/check)
//! compares against: a 1080p window of test frames, its plan, and the CPU
//! reference's output. Run where the check runs (tools/bench/shim-window.sh):
//!
//!   window_fixture DIR nv12|rgba
//!
//! DIR/plan.txt holds `key value...` lines (the fields of
//! actrec_trt_window_plan, then `members`); frames.bin the frames, one after
//! another; fast.bin and slow.bin the reference's floats, little-endian.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use actrec_core::manifest::InputSpec;
use actrec_preprocess::gpu::{FrameLayout, PixelFormat, WindowPlan, reference_window, test_pattern};

const FRAMES: usize = 30;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(format)) = (args.next().map(PathBuf::from), args.next()) else {
        eprintln!("usage: window_fixture DIR nv12|rgba");
        return ExitCode::from(2);
    };
    let format = match format.as_str() {
        "nv12" => PixelFormat::Nv12,
        "rgba" => PixelFormat::Rgba,
        other => {
            eprintln!("window_fixture: format {other:?}: nv12 or rgba");
            return ExitCode::from(2);
        }
    };
    match write(&dir, format) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("window_fixture: {}: {err}", dir.display());
            ExitCode::FAILURE
        }
    }
}

fn write(dir: &std::path::Path, format: PixelFormat) -> std::io::Result<()> {
    let layout = FrameLayout::packed(format, 1920, 1080);
    let plan = WindowPlan::new(&InputSpec::slowfast(96), FRAMES);
    let frames = test_pattern(&layout, FRAMES);
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let (slow, fast) = reference_window(&plan, &layout, &refs);
    let (crop_x, crop_y, crop) = layout.centre_crop();
    let list = |values: &mut dyn Iterator<Item = String>| values.collect::<Vec<_>>().join(" ");
    let mut text = String::new();
    for (key, value) in [
        ("format", format.code() as usize),
        ("width", layout.width),
        ("height", layout.height),
        ("pitch", layout.pitch),
        ("slots", FRAMES),
        ("crop_x", crop_x),
        ("crop_y", crop_y),
        ("crop", crop),
        ("size", plan.size),
        ("fast_frames", plan.fast_frames),
        ("slow_frames", plan.slow_frames),
    ] {
        let _ = writeln!(text, "{key} {value}");
    }
    let _ = writeln!(text, "scale {}", list(&mut plan.scale.iter().map(f32::to_string)));
    let _ = writeln!(text, "offset {}", list(&mut plan.offset.iter().map(f32::to_string)));
    let _ = writeln!(text, "slow_of {}", list(&mut plan.slow_of.iter().map(i32::to_string)));
    let _ = writeln!(text, "members {}", list(&mut plan.members.iter().map(usize::to_string)));
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("plan.txt"), text)?;
    std::fs::write(dir.join("frames.bin"), frames.concat())?;
    let bytes = |values: &[f32]| values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(dir.join("fast.bin"), bytes(&fast))?;
    std::fs::write(dir.join("slow.bin"), bytes(&slow))?;
    println!(
        "window_fixture: {FRAMES} {format:?} frames of {}x{} and the reference in {}",
        layout.width,
        layout.height,
        dir.display()
    );
    Ok(())
}
