//! CUDA preprocessing of one 1080p window of 30 frames (the original
//! system's 1 s window), upload included, against two baselines measured in
//! the same run on the same GPU: a device-to-device copy (what the GPU's
//! memory does at best) and a large host-to-device copy from page-locked
//! memory (what its link does at best). Also the CPU reference of the same
//! arithmetic on one core, for scale. Needs a CUDA GPU (`cuda-*` features);
//! run by tools/bench/cuda-preprocess.sh. Prints JSON lines.

use std::time::Instant;

use actrec_core::manifest::InputSpec;
use actrec_preprocess::gpu::cuda::GpuWindower;
use actrec_preprocess::gpu::{FrameLayout, PixelFormat, WindowPlan, reference_window};

const FRAMES: usize = 30;
const WINDOWS: usize = 200;

fn main() {
    for format in [PixelFormat::Nv12, PixelFormat::Rgba] {
        if let Err(err) = measure(format) {
            eprintln!("{format:?}: {err}");
            std::process::exit(1);
        }
    }
}

fn measure(format: PixelFormat) -> Result<(), Box<dyn std::error::Error>> {
    let layout = FrameLayout::packed(format, 1920, 1080);
    let plan = WindowPlan::new(&InputSpec::slowfast(96), FRAMES);
    let mut gpu = GpuWindower::new(layout, FRAMES, plan.clone())?;
    let stream = gpu.stream().clone();
    let bytes = layout.bytes();
    let mut pinned = gpu.pinned_frames(FRAMES)?;
    for (i, b) in pinned.as_mut_slice()?.iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    let host = pinned.as_slice()?;
    let slots: Vec<usize> = (0..FRAMES).collect();
    let timing = Some(cudarc::driver::sys::CUevent_flags::CU_EVENT_DEFAULT);

    // Warm up: module load, first launches.
    for slot in 0..FRAMES {
        gpu.upload(slot, &host[slot * bytes..(slot + 1) * bytes])?;
    }
    gpu.window(&slots)?;
    stream.synchronize()?;

    let (mut upload_ms, mut kernel_ms, mut total_ms) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..WINDOWS {
        let start = stream.record_event(timing)?;
        for slot in 0..FRAMES {
            gpu.upload(slot, &host[slot * bytes..(slot + 1) * bytes])?;
        }
        let uploaded = stream.record_event(timing)?;
        gpu.window(&slots)?;
        let done = stream.record_event(timing)?;
        done.synchronize()?;
        upload_ms.push(start.elapsed_ms(&uploaded)? as f64);
        kernel_ms.push(uploaded.elapsed_ms(&done)? as f64);
        total_ms.push(start.elapsed_ms(&done)? as f64);
    }

    // Baselines, same run: a 1 GiB device-to-device copy, and the same
    // bytes as one window host-to-device in one copy.
    let big = 1 << 30;
    let source = stream.alloc_zeros::<u8>(big)?;
    let mut target = stream.alloc_zeros::<u8>(big)?;
    let mut d2d = Vec::new();
    for _ in 0..5 {
        let a = stream.record_event(timing)?;
        stream.memcpy_dtod(&source, &mut target)?;
        let b = stream.record_event(timing)?;
        b.synchronize()?;
        d2d.push(a.elapsed_ms(&b)? as f64);
    }
    let mut window_buffer = stream.alloc_zeros::<u8>(FRAMES * bytes)?;
    let mut h2d = Vec::new();
    for _ in 0..20 {
        let a = stream.record_event(timing)?;
        stream.memcpy_htod(host, &mut window_buffer)?;
        let b = stream.record_event(timing)?;
        b.synchronize()?;
        h2d.push(a.elapsed_ms(&b)? as f64);
    }
    let d2d_gbs = 2.0 * big as f64 / median(&mut d2d) / 1e6;
    let h2d_gbs = (FRAMES * bytes) as f64 / median(&mut h2d) / 1e6;

    // What the kernel must move at least: every source byte of the crop
    // of each fast frame once (the luma and chroma under the boxes), the
    // plan's indices, and both outputs written once.
    let (_, _, crop) = layout.centre_crop();
    let crop_bytes = match format {
        PixelFormat::Nv12 => crop * crop * 3 / 2,
        PixelFormat::Rgba => crop * crop * 4,
    };
    let plane = plan.size * plan.size;
    let written = 3 * (plan.fast_frames + plan.slow_frames) * plane * 4;
    let kernel_bytes = (plan.fast_frames * crop_bytes + written) as f64;
    let kernel = median(&mut kernel_ms);
    let upload = median(&mut upload_ms);
    let total = median(&mut total_ms);

    // The same arithmetic on one CPU core, for scale (3 windows).
    let refs: Vec<&[u8]> = (0..FRAMES).map(|s| &host[s * bytes..(s + 1) * bytes]).collect();
    let started = Instant::now();
    for _ in 0..3 {
        std::hint::black_box(reference_window(&plan, &layout, &refs));
    }
    let cpu_ms = started.elapsed().as_secs_f64() * 1e3 / 3.0;

    println!(
        "{{\"format\":\"{format:?}\",\"frames\":{FRAMES},\"width\":1920,\"height\":1080,\"windows\":{WINDOWS},\
         \"window_ms_median\":{total:.4},\"window_ms_p99\":{:.4},\"upload_ms_median\":{upload:.4},\"kernel_ms_median\":{kernel:.4},\
         \"upload_bytes\":{},\"upload_gb_s\":{:.2},\"h2d_one_copy_gb_s\":{h2d_gbs:.2},\"upload_fraction_of_h2d\":{:.3},\
         \"kernel_min_bytes\":{kernel_bytes},\"kernel_gb_s\":{:.1},\"d2d_copy_gb_s\":{d2d_gbs:.1},\"kernel_fraction_of_d2d\":{:.3},\
         \"cpu_reference_ms_one_core\":{cpu_ms:.1}}}",
        percentile(&mut total_ms, 0.99),
        FRAMES * bytes,
        (FRAMES * bytes) as f64 / upload / 1e6,
        ((FRAMES * bytes) as f64 / upload / 1e6) / h2d_gbs,
        kernel_bytes / kernel / 1e6,
        (kernel_bytes / kernel / 1e6) / d2d_gbs,
    );
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    percentile(values, 0.5)
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}
