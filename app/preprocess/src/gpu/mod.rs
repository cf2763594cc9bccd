//! Preprocessing on the GPU: whole decoded frames (1080p NV12 from a
//! hardware decoder, or RGBA) to both network inputs in one kernel
//! (`window.cu`): centre crop, box-filter resize, colour conversion,
//! normalisation, fast/slow sampling and NCTHW packing.
//!
//! This module holds what both sides share and the CPU reference of the
//! kernel's arithmetic ([`reference_window`]); `cuda` (cargo feature
//! `cuda`, through cudarc and NVRTC) runs the kernel. On the CPU path the
//! media pipeline crops and scales instead, and [`crate::Windower`] packs.

// The kernel launch is the one unsafe call, with its SAFETY comment.
#[cfg(feature = "cuda")]
#[allow(unsafe_code)]
pub mod cuda;

use actrec_core::manifest::InputSpec;

/// The kernel's source, compiled at run time.
pub const KERNEL_SOURCE: &str = include_str!("window.cu");
pub const KERNEL_NAME: &str = "actrec_window";

/// How decoded frames lie in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Y plane, then interleaved U/V at half resolution; BT.709 limited range.
    Nv12,
    Rgba,
}

impl PixelFormat {
    /// The kernel's `format` argument.
    pub fn code(self) -> i32 {
        match self {
            PixelFormat::Nv12 => 0,
            PixelFormat::Rgba => 1,
        }
    }
}

/// Size and layout of one decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLayout {
    pub format: PixelFormat,
    pub width: usize,
    pub height: usize,
    /// Bytes per row (of each plane, for NV12).
    pub pitch: usize,
}

impl FrameLayout {
    /// A tightly packed frame.
    pub fn packed(format: PixelFormat, width: usize, height: usize) -> Self {
        let pitch = match format {
            PixelFormat::Nv12 => width,
            PixelFormat::Rgba => 4 * width,
        };
        Self {
            format,
            width,
            height,
            pitch,
        }
    }

    pub fn bytes(&self) -> usize {
        match self.format {
            PixelFormat::Nv12 => self.pitch * self.height * 3 / 2,
            PixelFormat::Rgba => self.pitch * self.height,
        }
    }

    /// The centre square `(x, y, side)`, on even pixels so that NV12's
    /// chroma lines up.
    pub fn centre_crop(&self) -> (usize, usize, usize) {
        let side = self.width.min(self.height) & !1;
        (((self.width - side) / 2) & !1, ((self.height - side) / 2) & !1, side)
    }
}

/// What the kernel does with one window, computed on the host: the manifest's
/// affine normalisation and, for each fast frame, the window member it shows
/// and the slow frame it also feeds.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowPlan {
    pub size: usize,
    pub fast_frames: usize,
    pub slow_frames: usize,
    /// `value * scale + offset` per channel: `(x / 255 - mean) / std`.
    pub scale: [f32; 3],
    pub offset: [f32; 3],
    /// Window member of each fast frame.
    pub members: Vec<usize>,
    /// Slow frame fed by each fast frame, or -1.
    pub slow_of: Vec<i32>,
}

impl WindowPlan {
    /// The plan for a window of `len` frames, sampled as [`crate::Windower`] does.
    pub fn new(spec: &InputSpec, len: usize) -> Self {
        let (fast, slow) = crate::pathway_samples(len, spec.fast_frames as usize, spec.slow_frames as usize);
        let mut slow_of = vec![-1; fast.len()];
        for (s, &f) in slow.iter().enumerate() {
            slow_of[f] = s as i32;
        }
        let affine = crate::affine(spec);
        Self {
            size: spec.size as usize,
            fast_frames: fast.len(),
            slow_frames: slow.len(),
            scale: affine.map(|(scale, _)| scale),
            offset: affine.map(|(_, offset)| offset),
            members: fast,
            slow_of,
        }
    }
}

impl WindowPlan {
    /// Window member of each fast frame, for a window of `len` frames (a
    /// camera's windows differ by a frame now and then).
    pub fn members_for(&self, len: usize) -> Vec<usize> {
        crate::pathway_samples(len, self.fast_frames, self.slow_frames).0
    }
}

/// The kernel's arithmetic on the CPU: `frames` are the window's decoded
/// frames in `layout`; returns `(slow, fast)`, each [1, 3, T, size, size].
pub fn reference_window(plan: &WindowPlan, layout: &FrameLayout, frames: &[&[u8]]) -> (Vec<f32>, Vec<f32>) {
    let size = plan.size;
    let plane = size * size;
    let (crop_x, crop_y, crop) = layout.centre_crop();
    let mut fast = vec![0f32; 3 * plan.fast_frames * plane];
    let mut slow = vec![0f32; 3 * plan.slow_frames * plane];
    for (t, &member) in plan.members.iter().enumerate() {
        let frame = frames[member];
        for y in 0..size {
            for x in 0..size {
                let (x0, x1) = (crop_x + x * crop / size, crop_x + (x + 1) * crop / size);
                let (y0, y1) = (crop_y + y * crop / size, crop_y + (y + 1) * crop / size);
                let rgb = match layout.format {
                    PixelFormat::Nv12 => nv12_box(frame, layout, (x0, x1), (y0, y1)),
                    PixelFormat::Rgba => rgba_box(frame, layout, (x0, x1), (y0, y1)),
                };
                let pixel = y * size + x;
                for (c, value) in rgb.into_iter().enumerate() {
                    let v = value.clamp(0.0, 255.0) * plan.scale[c] + plan.offset[c];
                    fast[(c * plan.fast_frames + t) * plane + pixel] = v;
                    if let Ok(s) = usize::try_from(plan.slow_of[t]) {
                        slow[(c * plan.slow_frames + s) * plane + pixel] = v;
                    }
                }
            }
        }
    }
    (slow, fast)
}

/// Frames with edges, gradients and noise in every channel, different per
/// frame: the input of the GPU checks (here, and in the shim's
/// `window_check` through `examples/window_fixture.rs`).
pub fn test_pattern(layout: &FrameLayout, count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x2545_f491_u32;
    (0..count)
        .map(|f| {
            (0..layout.bytes())
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let x = i % layout.pitch;
                    let ramp = (x / 7 + i / layout.pitch / 5 + f * 9) % 256;
                    (ramp as u32 / 2 + (state & 0x7f)) as u8
                })
                .collect()
        })
        .collect()
}

fn nv12_box(frame: &[u8], layout: &FrameLayout, (x0, x1): (usize, usize), (y0, y1): (usize, usize)) -> [f32; 3] {
    let pitch = layout.pitch;
    let sum: u32 = (y0..y1)
        .flat_map(|y| &frame[y * pitch + x0..y * pitch + x1])
        .map(|&v| u32::from(v))
        .sum();
    let luma = sum as f32 / ((x1 - x0) * (y1 - y0)) as f32;
    let uv = &frame[pitch * layout.height..];
    let (cx0, cx1, cy0, cy1) = (x0 >> 1, ((x1 - 1) >> 1) + 1, y0 >> 1, ((y1 - 1) >> 1) + 1);
    let (mut su, mut sv) = (0u32, 0u32);
    for y in cy0..cy1 {
        for x in cx0..cx1 {
            su += u32::from(uv[y * pitch + 2 * x]);
            sv += u32::from(uv[y * pitch + 2 * x + 1]);
        }
    }
    let n = ((cx1 - cx0) * (cy1 - cy0)) as f32;
    let (c, u, v) = (1.164383 * (luma - 16.0), su as f32 / n - 128.0, sv as f32 / n - 128.0);
    [c + 1.792741 * v, c - 0.213249 * u - 0.532909 * v, c + 2.112402 * u]
}

fn rgba_box(frame: &[u8], layout: &FrameLayout, (x0, x1): (usize, usize), (y0, y1): (usize, usize)) -> [f32; 3] {
    let mut sum = [0u32; 3];
    for y in y0..y1 {
        for pixel in frame[y * layout.pitch + 4 * x0..y * layout.pitch + 4 * x1].chunks_exact(4) {
            for c in 0..3 {
                sum[c] += u32::from(pixel[c]);
            }
        }
    }
    let n = ((x1 - x0) * (y1 - y0)) as f32;
    sum.map(|s| s as f32 / n)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{ModelFrame, Windower};

    fn spec(size: u32) -> InputSpec {
        InputSpec {
            fast_frames: 8,
            slow_frames: 2,
            mean: [0.45, 0.4, 0.35],
            std: [0.225, 0.2, 0.25],
            ..InputSpec::slowfast(size)
        }
    }

    /// Frames already at the model's size (a box of one pixel) give what the
    /// CPU path's Windower gives: same sampling, normalisation and packing.
    #[test]
    fn at_the_models_size_the_reference_packs_as_the_windower_does() {
        let spec = spec(4);
        let layout = FrameLayout::packed(PixelFormat::Rgba, 4, 4);
        let frames: Vec<Vec<u8>> = (0..6)
            .map(|f| (0..64).map(|i| ((i * 37 + f * 11) % 256) as u8).collect())
            .collect();
        let mut windower = Windower::new(&spec);
        let mut clips = Vec::new();
        for (n, rgba) in frames.iter().enumerate() {
            let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            clips.extend(
                windower
                    .push(ModelFrame {
                        t: n as f64 / 5.0,
                        rgb: Arc::from(rgb),
                    })
                    .expect("frame"),
            );
        }
        let clip = &clips[0];
        let members = 5;
        let plan = WindowPlan::new(&spec, members);
        let refs: Vec<&[u8]> = frames[..members].iter().map(Vec::as_slice).collect();
        let (slow, fast) = reference_window(&plan, &layout, &refs);
        let worst = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert_eq!((fast.len(), slow.len()), (clip.fast.len(), clip.slow.len()));
        assert!(worst(&fast, &clip.fast) < 1e-5 && worst(&slow, &clip.slow) < 1e-5);
    }

    #[test]
    fn nv12_grey_and_colour_convert_as_bt709_limited_range() {
        let layout = FrameLayout::packed(PixelFormat::Nv12, 8, 4);
        let plan = WindowPlan::new(&spec(2), 1);
        let mut frame = vec![0u8; layout.bytes()];
        // Mid grey: Y 126, U = V = 128 -> about 128 in every channel.
        frame[..32].fill(126);
        frame[32..].fill(128);
        let (_, fast) = reference_window(&plan, &layout, &[&frame]);
        let grey = fast[0] * 0.225 * 255.0 + 0.45 * 255.0;
        assert!((grey - 128.0).abs() < 0.5, "{grey}");
        // Pure red in BT.709 limited range: Y 63, U 102, V 240.
        frame[..32].fill(63);
        for uv in frame[32..].chunks_exact_mut(2) {
            uv.copy_from_slice(&[102, 240]);
        }
        let (_, fast) = reference_window(&plan, &layout, &[&frame]);
        let plane = 4;
        let channel = |c: usize, mean: f32, std: f32| fast[c * 8 * plane] * std * 255.0 + mean * 255.0;
        assert!(channel(0, 0.45, 0.225) > 250.0, "{}", channel(0, 0.45, 0.225));
        assert!(channel(1, 0.4, 0.2) < 5.0 && channel(2, 0.35, 0.25) < 5.0);
    }

    #[test]
    fn the_crop_is_the_centre_square_on_even_pixels() {
        assert_eq!(
            FrameLayout::packed(PixelFormat::Nv12, 1920, 1080).centre_crop(),
            (420, 0, 1080)
        );
        assert_eq!(
            FrameLayout::packed(PixelFormat::Rgba, 640, 481).centre_crop(),
            (80, 0, 480)
        );
    }
}
