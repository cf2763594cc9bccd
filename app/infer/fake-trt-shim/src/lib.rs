//! The fake TensorRT shim: `actrec_trt.h`'s ABI without TensorRT or a GPU.
//!
//! Its "engine" is a text file that says what the engine would hold, so a
//! test can make every case the real shim meets:
//!
//! ```text
//! actrec fake engine
//! input slow 1 3 8 96 96
//! input fast 1 3 32 96 96
//! output logits 1 9
//! type fast 1          # optional: a tensor of another TensorRT data type
//! fail enqueue 1       # optional: enqueues after the first fail, as on a GPU fault
//! ```
//!
//! Anything else is refused the way TensorRT refuses a foreign engine
//! (a null engine and a message). Score `j` of the output is `(j + 1)` times
//! the mean of all input values, so a test can tell that its data went
//! through. `ACTREC_FAKE_TRT_ABI` overrides the ABI version it reports.
//!
//! Its preprocessing "on the GPU" (`actrec_trt_window_*`) is actrec's CPU
//! reference of the kernel (`actrec_preprocess::gpu::reference_window`),
//! written into the engine's inputs as the real shim's kernel writes them.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};

use actrec_preprocess::gpu::{FrameLayout, PixelFormat, WindowPlan, reference_window};

const ABI_VERSION: u32 = 2;
const MAX_WINDOW: usize = 128;
const NAME_LEN: usize = 64;
const MAX_RANK: usize = 8;

#[repr(C)]
pub struct RawTensor {
    name: [c_char; NAME_LEN],
    is_input: i32,
    data_type: i32,
    rank: i32,
    dims: [i64; MAX_RANK],
}

struct Tensor {
    name: String,
    is_input: bool,
    data_type: i32,
    dims: Vec<i64>,
    data: Vec<f32>,
}

/// `actrec_trt_window_plan`
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawWindowPlan {
    format: i32,
    width: i32,
    height: i32,
    pitch: i32,
    slots: i32,
    crop_x: i32,
    crop_y: i32,
    crop: i32,
    size: i32,
    fast_frames: i32,
    slow_frames: i32,
    scale: [f32; 3],
    offset: [f32; 3],
    slow_of: [i32; MAX_WINDOW],
    fast_input: i32,
    slow_input: i32,
}

/// The ring of frames and the window, as the fake keeps them.
struct Window {
    raw: RawWindowPlan,
    layout: FrameLayout,
    plan: WindowPlan,
    ring: Vec<Option<Vec<u8>>>,
}

struct Engine {
    tensors: Vec<Tensor>,
    window: Option<Window>,
    /// Enqueues that succeed before every later one fails.
    fail_after: Option<usize>,
    enqueued: usize,
}

fn parse(text: &str) -> Result<Engine, String> {
    let mut lines = text.lines().map(|l| l.split('#').next().unwrap_or("").trim());
    if lines.next() != Some("actrec fake engine") {
        return Err(
            "not an engine of this TensorRT and GPU (the fake shim's engines begin `actrec fake engine`)".into(),
        );
    }
    let mut engine = Engine {
        tensors: Vec::new(),
        fail_after: None,
        enqueued: 0,
        window: None,
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [kind @ ("input" | "output"), name, ref dims @ ..] => {
                let dims: Vec<i64> = dims
                    .iter()
                    .map(|d| d.parse().map_err(|_| format!("bad dimension `{d}` in `{line}`")))
                    .collect::<Result<_, _>>()?;
                let volume = dims.iter().product::<i64>().max(0) as usize;
                engine.tensors.push(Tensor {
                    name: name.into(),
                    is_input: kind == "input",
                    data_type: 0,
                    dims,
                    data: vec![0.0; volume],
                });
            }
            ["type", name, data_type] => {
                let tensor = engine
                    .tensors
                    .iter_mut()
                    .find(|t| t.name == name)
                    .ok_or_else(|| format!("`{line}`: no tensor {name}"))?;
                tensor.data_type = data_type.parse().map_err(|_| format!("bad type in `{line}`"))?;
            }
            ["fail", "enqueue", after] => {
                engine.fail_after = Some(after.parse().map_err(|_| format!("bad count in `{line}`"))?);
            }
            _ => return Err(format!("unknown line `{line}`")),
        }
    }
    Ok(engine)
}

/// Writes `text` NUL-terminated into the caller's buffer, cut to fit.
///
/// # Safety
/// `buffer` is null or valid for `len` bytes.
unsafe fn write_text(buffer: *mut c_char, len: usize, text: &str) {
    if !buffer.is_null() && len > 0 {
        let n = text.len().min(len - 1);
        // SAFETY: the caller gives `len` writable bytes; n + 1 <= len.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr().cast::<c_char>(), buffer, n);
            *buffer.add(n) = 0;
        }
    }
}

/// Writes `message` into the caller's error buffer; returns 1 (failed).
///
/// # Safety
/// `error` is null or valid for `len` bytes.
unsafe fn fail(error: *mut c_char, len: usize, message: &str) -> i32 {
    // SAFETY: the same contract.
    unsafe { write_text(error, len, message) };
    1
}

/// # Safety
/// `engine` is null or came from `actrec_trt_load` and is not destroyed.
unsafe fn engine_mut<'a>(engine: *mut c_void) -> Option<&'a mut Engine> {
    // SAFETY: per the function's contract.
    unsafe { engine.cast::<Engine>().as_mut() }
}

#[unsafe(no_mangle)]
pub extern "C" fn actrec_trt_abi_version() -> u32 {
    std::env::var("ACTREC_FAKE_TRT_ABI")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ABI_VERSION)
}

#[unsafe(no_mangle)]
pub extern "C" fn actrec_trt_tensorrt_version() -> u32 {
    80502
}

/// # Safety
/// The buffers are null or valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_device_name(name: *mut c_char, len: usize, _error: *mut c_char, _: usize) -> i32 {
    // SAFETY: the same contract.
    unsafe { write_text(name, len, "Fake GPU") };
    0
}

/// # Safety
/// `data` is valid for `len` bytes; `error` for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_load(
    data: *const u8,
    len: usize,
    error: *mut c_char,
    error_len: usize,
) -> *mut c_void {
    if data.is_null() || len == 0 {
        // SAFETY: the caller's buffer.
        unsafe { fail(error, error_len, "the engine file is empty") };
        return std::ptr::null_mut();
    }
    // SAFETY: the caller gives `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    match parse(&String::from_utf8_lossy(bytes)) {
        Ok(engine) => Box::into_raw(Box::new(engine)).cast(),
        Err(message) => {
            // SAFETY: the caller's buffer.
            unsafe { fail(error, error_len, &message) };
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// `engine` is null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_io_count(engine: *const c_void) -> i32 {
    // SAFETY: per the contract.
    unsafe { engine.cast::<Engine>().as_ref() }.map_or(0, |e| e.tensors.len() as i32)
}

/// # Safety
/// `engine` is null or live; `tensor` is null or writable; `error` valid for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_io_describe(
    engine: *const c_void,
    index: i32,
    tensor: *mut RawTensor,
    error: *mut c_char,
    error_len: usize,
) -> i32 {
    // SAFETY: per the contract.
    let found = unsafe { engine.cast::<Engine>().as_ref() }.and_then(|e| e.tensors.get(index as usize));
    // SAFETY: per the contract.
    let (Some(t), Some(out)) = (found, unsafe { tensor.as_mut() }) else {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &format!("no IO tensor {index}")) };
    };
    let mut name = [0 as c_char; NAME_LEN];
    for (to, from) in name.iter_mut().zip(t.name.bytes().take(NAME_LEN - 1)) {
        *to = from as c_char;
    }
    let mut dims = [0i64; MAX_RANK];
    dims[..t.dims.len().min(MAX_RANK)].copy_from_slice(&t.dims[..t.dims.len().min(MAX_RANK)]);
    *out = RawTensor {
        name,
        is_input: i32::from(t.is_input),
        data_type: t.data_type,
        rank: t.dims.len() as i32,
        dims,
    };
    0
}

/// # Safety
/// `engine` is null or live; `data` valid for `count` floats; `error` for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_set_input(
    engine: *mut c_void,
    index: i32,
    data: *const f32,
    count: usize,
    error: *mut c_char,
    error_len: usize,
) -> i32 {
    // SAFETY: per the contract.
    let tensor = unsafe { engine_mut(engine) }.and_then(|e| e.tensors.get_mut(index as usize));
    let Some(t) = tensor.filter(|t| t.is_input) else {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &format!("no input tensor {index}")) };
    };
    if count != t.data.len() || data.is_null() {
        let message = format!("input {} takes {} floats, given {count}", t.name, t.data.len());
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &message) };
    }
    // SAFETY: the caller gives `count` readable floats.
    t.data
        .copy_from_slice(unsafe { std::slice::from_raw_parts(data, count) });
    0
}

#[unsafe(no_mangle)]
pub extern "C" fn actrec_trt_device_buffer(_engine: *mut c_void, _index: i32) -> *mut c_void {
    // No device: nothing can write the inputs in place.
    std::ptr::null_mut()
}

/// # Safety
/// `engine` is null or live; `error` valid for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_enqueue(engine: *mut c_void, error: *mut c_char, error_len: usize) -> i32 {
    // SAFETY: per the contract.
    let Some(e) = (unsafe { engine_mut(engine) }) else {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, "no engine") };
    };
    if e.fail_after.is_some_and(|after| e.enqueued >= after) {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, "enqueue failed: the fake engine was told to fail") };
    }
    let inputs: Vec<f32> = e
        .tensors
        .iter()
        .filter(|t| t.is_input)
        .flat_map(|t| t.data.iter().copied())
        .collect();
    let mean = inputs.iter().map(|&v| f64::from(v)).sum::<f64>() / inputs.len().max(1) as f64;
    for t in e.tensors.iter_mut().filter(|t| !t.is_input) {
        for (j, v) in t.data.iter_mut().enumerate() {
            *v = ((j + 1) as f64 * mean) as f32;
        }
    }
    e.enqueued += 1;
    0
}

/// # Safety
/// `engine` is null or live; `error` valid for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_synchronize(engine: *mut c_void, error: *mut c_char, error_len: usize) -> i32 {
    // SAFETY: per the contract.
    match unsafe { engine_mut(engine) } {
        Some(_) => 0,
        // SAFETY: the caller's buffer.
        None => unsafe { fail(error, error_len, "no engine") },
    }
}

/// # Safety
/// `engine` is null or live; `data` valid for `count` floats; `error` for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_get_output(
    engine: *mut c_void,
    index: i32,
    data: *mut f32,
    count: usize,
    error: *mut c_char,
    error_len: usize,
) -> i32 {
    // SAFETY: per the contract.
    let tensor = unsafe { engine_mut(engine) }.and_then(|e| e.tensors.get(index as usize));
    let Some(t) = tensor.filter(|t| !t.is_input) else {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &format!("no output tensor {index}")) };
    };
    if count != t.data.len() || data.is_null() {
        let message = format!("output {} holds {} floats, asked for {count}", t.name, t.data.len());
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &message) };
    }
    // SAFETY: the caller gives `count` writable floats.
    unsafe { std::ptr::copy_nonoverlapping(t.data.as_ptr(), data, count) };
    0
}

/// The window a raw plan describes, or what is wrong with it.
fn window_of(e: &Engine, raw: &RawWindowPlan) -> Result<Window, String> {
    let count = |value: i32, what: &str| usize::try_from(value).map_err(|_| format!("{what} {value}"));
    let format = match raw.format {
        0 => PixelFormat::Nv12,
        1 => PixelFormat::Rgba,
        other => return Err(format!("format {other} (0 NV12, 1 RGBA)")),
    };
    let layout = FrameLayout {
        format,
        width: count(raw.width, "width")?,
        height: count(raw.height, "height")?,
        pitch: count(raw.pitch, "pitch")?,
    };
    let (fast_frames, slow_frames) = (
        count(raw.fast_frames, "fast frames")?,
        count(raw.slow_frames, "slow frames")?,
    );
    if fast_frames == 0 || fast_frames > MAX_WINDOW || slow_frames > fast_frames {
        return Err(format!("fast frames {fast_frames}, slow frames {slow_frames}"));
    }
    let crop = (
        count(raw.crop_x, "crop x")?,
        count(raw.crop_y, "crop y")?,
        count(raw.crop, "crop")?,
    );
    let size = count(raw.size, "size")?;
    // The fake's arithmetic is the reference's, which takes the centre square.
    if crop != layout.centre_crop() || crop.2 < size {
        return Err(format!("crop {crop:?} for a model side of {size}"));
    }
    for (which, index, frames) in [
        ("fast", raw.fast_input, fast_frames),
        ("slow", raw.slow_input, slow_frames),
    ] {
        let volume = 3 * frames * size * size;
        let fits = usize::try_from(index)
            .ok()
            .and_then(|i| e.tensors.get(i))
            .is_some_and(|t| t.is_input && t.data_type == 0 && t.data.len() == volume);
        if !fits {
            return Err(format!(
                "the {which} input (IO tensor {index}) must be a float input of {volume} values"
            ));
        }
    }
    let plan = WindowPlan {
        size,
        fast_frames,
        slow_frames,
        scale: raw.scale,
        offset: raw.offset,
        // The kernel is given one slot per fast frame: member t is frame t.
        members: (0..fast_frames).collect(),
        slow_of: raw.slow_of[..fast_frames].to_vec(),
    };
    Ok(Window {
        raw: *raw,
        layout,
        plan,
        ring: vec![None; count(raw.slots, "slots")?],
    })
}

/// # Safety
/// `engine` is null or live; `plan` null or valid; `error` for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_window_plan_set(
    engine: *mut c_void,
    plan: *const RawWindowPlan,
    error: *mut c_char,
    error_len: usize,
) -> i32 {
    // SAFETY: per the contract.
    let (Some(e), Some(raw)) = (unsafe { engine_mut(engine) }, unsafe { plan.as_ref() }) else {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, "no engine or no plan") };
    };
    match window_of(e, raw) {
        Ok(window) => {
            e.window = Some(window);
            0
        }
        // SAFETY: the caller's buffer.
        Err(message) => unsafe { fail(error, error_len, &format!("window plan: {message}")) },
    }
}

/// # Safety
/// `engine` is null or live; `frame` valid for `len` bytes; `error` for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_window_upload(
    engine: *mut c_void,
    slot: i32,
    frame: *const u8,
    len: usize,
    error: *mut c_char,
    error_len: usize,
) -> i32 {
    // SAFETY: per the contract.
    let Some(window) = (unsafe { engine_mut(engine) }).and_then(|e| e.window.as_mut()) else {
        // SAFETY: the caller's buffer.
        return unsafe {
            fail(
                error,
                error_len,
                "no window plan: call actrec_trt_window_plan_set first",
            )
        };
    };
    let bytes = window.layout.bytes();
    let slots = window.ring.len();
    match usize::try_from(slot).ok().and_then(|s| window.ring.get_mut(s)) {
        Some(stored) if len == bytes && !frame.is_null() => {
            // SAFETY: the caller gives `len` readable bytes.
            *stored = Some(unsafe { std::slice::from_raw_parts(frame, len) }.to_vec());
            0
        }
        _ => {
            let message = format!("frame of {len} bytes into slot {slot}: the ring has {slots} slots of {bytes} bytes");
            // SAFETY: the caller's buffer.
            unsafe { fail(error, error_len, &message) }
        }
    }
}

/// # Safety
/// `engine` is null or live; `slots` valid for `count` values; `error` for `error_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_window_run(
    engine: *mut c_void,
    slots: *const i32,
    count: i32,
    error: *mut c_char,
    error_len: usize,
) -> i32 {
    // SAFETY: per the contract.
    let Some(e) = (unsafe { engine_mut(engine) }) else {
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, "no engine") };
    };
    let Some(window) = &e.window else {
        // SAFETY: the caller's buffer.
        return unsafe {
            fail(
                error,
                error_len,
                "no window plan: call actrec_trt_window_plan_set first",
            )
        };
    };
    if slots.is_null() || usize::try_from(count).ok() != Some(window.plan.fast_frames) {
        let message = format!(
            "a window of {count} slots: the plan has {} fast frames",
            window.plan.fast_frames
        );
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &message) };
    }
    // SAFETY: the caller gives `count` readable values.
    let slots = unsafe { std::slice::from_raw_parts(slots, window.plan.fast_frames) };
    let frames: Option<Vec<&[u8]>> = slots
        .iter()
        .map(|&s| usize::try_from(s).ok().and_then(|s| window.ring.get(s)?.as_deref()))
        .collect();
    let Some(frames) = frames else {
        let message = format!("slots {slots:?}: a slot is outside the ring or holds no frame");
        // SAFETY: the caller's buffer.
        return unsafe { fail(error, error_len, &message) };
    };
    let (slow, fast) = reference_window(&window.plan, &window.layout, &frames);
    let (fast_input, slow_input) = (window.raw.fast_input as usize, window.raw.slow_input as usize);
    e.tensors[fast_input].data.copy_from_slice(&fast);
    e.tensors[slow_input].data.copy_from_slice(&slow);
    0
}

/// # Safety
/// `engine` is null or came from `actrec_trt_load` and is destroyed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_destroy(engine: *mut c_void) {
    if !engine.is_null() {
        // SAFETY: per the contract, it is a Box this library made.
        drop(unsafe { Box::from_raw(engine.cast::<Engine>()) });
    }
}
