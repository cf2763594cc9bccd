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
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};

const ABI_VERSION: u32 = 1;
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

struct Engine {
    tensors: Vec<Tensor>,
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

/// # Safety
/// `engine` is null or came from `actrec_trt_load` and is destroyed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn actrec_trt_destroy(engine: *mut c_void) {
    if !engine.is_null() {
        // SAFETY: per the contract, it is a Box this library made.
        drop(unsafe { Box::from_raw(engine.cast::<Engine>()) });
    }
}
