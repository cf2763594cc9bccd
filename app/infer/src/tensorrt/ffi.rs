//! The shim's C ABI (`app/infer/trt-shim/actrec_trt.h`), opened at run time
//! with `libloading`. The only unsafe code of the inference stage lives here:
//! every call passes pointers that outlive it and buffers of the length it
//! is told, and the shim keeps none of them.

use std::ffi::{CStr, c_char, c_void};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use libloading::Library;

/// `ACTREC_TRT_ABI_VERSION` of actrec_trt.h that this code speaks.
pub const ABI_VERSION: u32 = 2;
const MAX_RANK: usize = 8;
/// `ACTREC_TRT_MAX_WINDOW`: fast frames of one window, at most.
pub const MAX_WINDOW: usize = 128;
const NAME_LEN: usize = 64;
const ERROR_LEN: usize = 1024;
/// `ACTREC_TRT_FLOAT`
pub const FLOAT: i32 = 0;

/// `actrec_trt_tensor`
#[repr(C)]
struct RawTensor {
    name: [c_char; NAME_LEN],
    is_input: i32,
    data_type: i32,
    rank: i32,
    dims: [i64; MAX_RANK],
}

/// One IO tensor of an engine, as the shim describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub index: i32,
    pub name: String,
    pub is_input: bool,
    pub data_type: i32,
    pub dims: Vec<i64>,
}

/// `actrec_trt_window_plan`: how decoded frames lie and what one window
/// makes of them, for the shim's preprocessing on the GPU.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowPlan {
    pub format: i32,
    pub width: i32,
    pub height: i32,
    pub pitch: i32,
    pub slots: i32,
    pub crop_x: i32,
    pub crop_y: i32,
    pub crop: i32,
    pub size: i32,
    pub fast_frames: i32,
    pub slow_frames: i32,
    pub scale: [f32; 3],
    pub offset: [f32; 3],
    pub slow_of: [i32; MAX_WINDOW],
    pub fast_input: i32,
    pub slow_input: i32,
}

type ErrorOut = *mut c_char;

/// The shim's functions, resolved once when it is opened.
struct Api {
    abi_version: unsafe extern "C" fn() -> u32,
    tensorrt_version: unsafe extern "C" fn() -> u32,
    device_name: unsafe extern "C" fn(*mut c_char, usize, ErrorOut, usize) -> i32,
    load: unsafe extern "C" fn(*const u8, usize, ErrorOut, usize) -> *mut c_void,
    io_count: unsafe extern "C" fn(*const c_void) -> i32,
    io_describe: unsafe extern "C" fn(*const c_void, i32, *mut RawTensor, ErrorOut, usize) -> i32,
    set_input: unsafe extern "C" fn(*mut c_void, i32, *const f32, usize, ErrorOut, usize) -> i32,
    enqueue: unsafe extern "C" fn(*mut c_void, ErrorOut, usize) -> i32,
    synchronize: unsafe extern "C" fn(*mut c_void, ErrorOut, usize) -> i32,
    get_output: unsafe extern "C" fn(*mut c_void, i32, *mut f32, usize, ErrorOut, usize) -> i32,
    destroy: unsafe extern "C" fn(*mut c_void),
    window_plan_set: unsafe extern "C" fn(*mut c_void, *const WindowPlan, ErrorOut, usize) -> i32,
    window_upload: unsafe extern "C" fn(*mut c_void, i32, *const u8, usize, ErrorOut, usize) -> i32,
    window_run: unsafe extern "C" fn(*mut c_void, *const i32, i32, ErrorOut, usize) -> i32,
}

/// An opened shim. Engines hold it, so it is unloaded after the last one.
pub struct Shim {
    api: Api,
    path: PathBuf,
    // Last: the functions above point into it.
    _library: Library,
}

/// One function of the shim, by name.
fn symbol<T: Copy>(library: &Library, path: &Path, name: &[u8]) -> Result<T, String> {
    // SAFETY: every caller names a function with the type actrec_trt.h
    // declares for it, and the pointer is used only while `library` lives
    // (`Shim` keeps both).
    unsafe { library.get::<T>(name) }
        .map(|symbol| *symbol)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `call` with an error buffer and turns a non-zero status into its message.
fn checked(call: impl FnOnce(ErrorOut, usize) -> i32) -> Result<(), String> {
    let mut error = [0 as c_char; ERROR_LEN];
    match call(error.as_mut_ptr(), ERROR_LEN) {
        0 => Ok(()),
        status => Err(message(&error, status)),
    }
}

/// The NUL-terminated text the shim wrote into `buffer`.
fn text(buffer: &[c_char]) -> String {
    // SAFETY: the buffer is zeroed and the shim writes at most its length
    // minus one bytes, so it ends with a NUL.
    unsafe { CStr::from_ptr(buffer.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The shim's message for a failed call, or what failed when it gave none.
fn message(buffer: &[c_char], status: i32) -> String {
    let text = text(buffer);
    if text.is_empty() {
        format!("failed with status {status} and no message")
    } else {
        text
    }
}

impl Shim {
    /// Opens the shim at `path` (a file, or a name the loader searches for)
    /// and checks that it speaks this ABI.
    pub fn open(path: &Path) -> Result<Arc<Shim>, String> {
        // SAFETY: opening runs the library's initialisers; the shim's are
        // TensorRT's and CUDA's, which are meant to be loaded this way.
        let library = unsafe { Library::new(path) }.map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let api = Api {
            abi_version: symbol(&library, path, b"actrec_trt_abi_version")?,
            tensorrt_version: symbol(&library, path, b"actrec_trt_tensorrt_version")?,
            device_name: symbol(&library, path, b"actrec_trt_device_name")?,
            load: symbol(&library, path, b"actrec_trt_load")?,
            io_count: symbol(&library, path, b"actrec_trt_io_count")?,
            io_describe: symbol(&library, path, b"actrec_trt_io_describe")?,
            set_input: symbol(&library, path, b"actrec_trt_set_input")?,
            enqueue: symbol(&library, path, b"actrec_trt_enqueue")?,
            synchronize: symbol(&library, path, b"actrec_trt_synchronize")?,
            get_output: symbol(&library, path, b"actrec_trt_get_output")?,
            destroy: symbol(&library, path, b"actrec_trt_destroy")?,
            window_plan_set: symbol(&library, path, b"actrec_trt_window_plan_set")?,
            window_upload: symbol(&library, path, b"actrec_trt_window_upload")?,
            window_run: symbol(&library, path, b"actrec_trt_window_run")?,
        };
        // SAFETY: takes and returns plain values.
        let found = unsafe { (api.abi_version)() };
        if found != ABI_VERSION {
            return Err(format!(
                "{} speaks shim ABI version {found}; this actrec speaks version {ABI_VERSION}: install the shim of the same release",
                path.display()
            ));
        }
        Ok(Arc::new(Shim {
            api,
            path: path.to_owned(),
            _library: library,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The TensorRT the shim was built against, e.g. 80502 for 8.5.2.
    pub fn tensorrt_version(&self) -> u32 {
        // SAFETY: takes and returns plain values.
        unsafe { (self.api.tensorrt_version)() }
    }

    /// The name of CUDA device 0.
    pub fn device_name(&self) -> Result<String, String> {
        let mut name = [0 as c_char; 256];
        // SAFETY: both buffers are as long as the lengths passed with them.
        checked(|error, len| unsafe { (self.api.device_name)(name.as_mut_ptr(), name.len(), error, len) })?;
        Ok(text(&name))
    }

    /// Deserialises an engine.
    pub fn load_engine(self: &Arc<Self>, bytes: &[u8]) -> Result<Engine, String> {
        let mut error = [0 as c_char; ERROR_LEN];
        // SAFETY: `bytes` and `error` are valid for the lengths passed, and
        // the shim copies what it keeps.
        let raw = unsafe { (self.api.load)(bytes.as_ptr(), bytes.len(), error.as_mut_ptr(), ERROR_LEN) };
        let raw = NonNull::new(raw).ok_or_else(|| message(&error, -1))?;
        Ok(Engine {
            shim: Arc::clone(self),
            raw,
        })
    }
}

/// One deserialised engine with its context, stream and device buffers.
pub struct Engine {
    shim: Arc<Shim>,
    raw: NonNull<c_void>,
}

// SAFETY: an engine is used by one thread at a time (every call that runs
// work takes `&mut self`), and TensorRT allows a context and its stream to
// be used from another thread than the one that made them.
unsafe impl Send for Engine {}

impl Engine {
    fn api(&self) -> &Api {
        &self.shim.api
    }

    /// Every IO tensor, in the shim's order.
    pub fn io(&self) -> Result<Vec<TensorInfo>, String> {
        // SAFETY: `raw` is a live engine from this shim.
        let count = unsafe { (self.api().io_count)(self.raw.as_ptr()) };
        (0..count)
            .map(|index| {
                let mut raw = RawTensor {
                    name: [0; NAME_LEN],
                    is_input: 0,
                    data_type: 0,
                    rank: 0,
                    dims: [0; MAX_RANK],
                };
                // SAFETY: `raw` is a live engine; the struct has the C layout.
                checked(|error, len| unsafe {
                    (self.api().io_describe)(self.raw.as_ptr(), index, &mut raw, error, len)
                })?;
                let rank = usize::try_from(raw.rank)
                    .ok()
                    .filter(|&r| r <= MAX_RANK)
                    .ok_or_else(|| format!("IO tensor {index} has rank {}", raw.rank))?;
                // The shim writes a NUL-terminated name; the last byte is
                // forced to NUL in case it did not.
                raw.name[NAME_LEN - 1] = 0;
                Ok(TensorInfo {
                    index,
                    name: text(&raw.name),
                    is_input: raw.is_input != 0,
                    data_type: raw.data_type,
                    dims: raw.dims[..rank].to_vec(),
                })
            })
            .collect()
    }

    pub fn set_input(&mut self, index: i32, data: &[f32]) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        // SAFETY: `data` is valid for `data.len()` floats, copied before the call returns.
        checked(|error, len| unsafe { (self.api().set_input)(raw, index, data.as_ptr(), data.len(), error, len) })
    }

    pub fn enqueue(&mut self) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        // SAFETY: `raw` is a live engine from this shim.
        checked(|error, len| unsafe { (self.api().enqueue)(raw, error, len) })
    }

    pub fn synchronize(&mut self) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        // SAFETY: `raw` is a live engine from this shim.
        checked(|error, len| unsafe { (self.api().synchronize)(raw, error, len) })
    }

    pub fn get_output(&mut self, index: i32, out: &mut [f32]) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        // SAFETY: `out` is valid for `out.len()` floats, written before the call returns.
        checked(|error, len| unsafe { (self.api().get_output)(raw, index, out.as_mut_ptr(), out.len(), error, len) })
    }
}

impl Engine {
    /// Makes the shim's device ring of decoded frames for `plan`.
    pub fn window_plan_set(&mut self, plan: &WindowPlan) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        // SAFETY: `plan` has the C layout and is read before the call returns.
        checked(|error, len| unsafe { (self.api().window_plan_set)(raw, plan, error, len) })
    }

    /// Copies one decoded frame into ring slot `slot`.
    pub fn window_upload(&mut self, slot: i32, frame: &[u8]) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        // SAFETY: `frame` is valid for its length; it is pageable memory, which
        // CUDA has copied out of before the call returns (actrec_trt.h).
        checked(|error, len| unsafe { (self.api().window_upload)(raw, slot, frame.as_ptr(), frame.len(), error, len) })
    }

    /// Queues one window: `slots[t]` holds fast frame t.
    pub fn window_run(&mut self, slots: &[i32]) -> Result<(), String> {
        let raw = self.raw.as_ptr();
        let count = i32::try_from(slots.len()).map_err(|_| format!("a window of {} frames", slots.len()))?;
        // SAFETY: `slots` is valid for `count` values, read before the call returns.
        checked(|error, len| unsafe { (self.api().window_run)(raw, slots.as_ptr(), count, error, len) })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: `raw` came from this shim's load and is destroyed once.
        unsafe { (self.api().destroy)(self.raw.as_ptr()) }
    }
}
