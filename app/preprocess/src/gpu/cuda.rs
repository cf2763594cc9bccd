//! `window.cu` on a CUDA GPU through cudarc: NVRTC compiles it when the
//! preprocessor is made, decoded frames go into a ring of device slots
//! (each uploaded once, however many windows it joins), and one launch per
//! window writes both network inputs into device buffers.
//!
//! cudarc opens libcuda and libnvrtc at run time (`dynamic-loading`), so
//! this builds where CUDA is absent; [`GpuWindower::new`] checks for the
//! libraries first, because cudarc panics when it needs a missing one.
//! CUDA 11.4 or later (Xavier on JetPack 5, Orin, x86 GPUs); the Nano's
//! CUDA 10.2 would get the same source built into the TensorRT shim.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PinnedHostSlice, PushKernelArg};

use super::{FrameLayout, KERNEL_NAME, KERNEL_SOURCE, WindowPlan};

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no CUDA here: {0} cannot be opened")]
    Missing(&'static str),
    #[error("CUDA: {0}")]
    Driver(#[from] cudarc::driver::DriverError),
    #[error("NVRTC could not compile window.cu: {0}")]
    Compile(String),
    #[error("{0}")]
    Usage(String),
}

/// True when the CUDA driver library and NVRTC can be opened.
pub fn cuda_present() -> Result<(), GpuError> {
    // SAFETY: these only try to open the libraries by name.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(GpuError::Missing("libcuda"));
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(GpuError::Missing("libnvrtc"));
    }
    Ok(())
}

/// Device buffers for one model's windows, and the compiled kernel.
pub struct GpuWindower {
    stream: Arc<CudaStream>,
    kernel: CudaFunction,
    layout: FrameLayout,
    ring: CudaSlice<u8>,
    slots: usize,
    fast: CudaSlice<f32>,
    slow: CudaSlice<f32>,
    plan: WindowPlan,
    plan_slots: CudaSlice<i32>,
    plan_slow_of: CudaSlice<i32>,
}

impl GpuWindower {
    /// On device 0, for frames of `layout`, with `slots` frames of room and
    /// windows sampled as `plan` says.
    pub fn new(layout: FrameLayout, slots: usize, plan: WindowPlan) -> Result<Self, GpuError> {
        cuda_present()?;
        let context = CudaContext::new(0)?;
        let stream = context.default_stream();
        let ptx = cudarc::nvrtc::compile_ptx(KERNEL_SOURCE).map_err(|e| GpuError::Compile(e.to_string()))?;
        let module = context.load_module(ptx)?;
        let kernel = module.load_function(KERNEL_NAME)?;
        let plane = plan.size * plan.size;
        Ok(Self {
            ring: stream.alloc_zeros::<u8>(slots * layout.bytes())?,
            fast: stream.alloc_zeros::<f32>(3 * plan.fast_frames * plane)?,
            slow: stream.alloc_zeros::<f32>(3 * plan.slow_frames * plane)?,
            plan_slots: stream.alloc_zeros::<i32>(plan.fast_frames)?,
            plan_slow_of: stream.clone_htod(&plan.slow_of)?,
            stream,
            kernel,
            layout,
            slots,
            plan,
        })
    }

    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Page-locked host memory for `frames` decoded frames, zeroed: uploads
    /// from it run at the link's full speed.
    pub fn pinned_frames(&self, frames: usize) -> Result<PinnedHostSlice<u8>, GpuError> {
        let context = self.stream.context();
        // SAFETY: the memory is zeroed below, before anyone reads it.
        let mut pinned = unsafe { context.alloc_pinned::<u8>(frames * self.layout.bytes()) }?;
        pinned.as_mut_slice()?.fill(0);
        Ok(pinned)
    }

    /// Copies one decoded frame into `slot` (queued on the stream; from
    /// page-locked memory it overlaps with other work).
    pub fn upload(&mut self, slot: usize, frame: &[u8]) -> Result<(), GpuError> {
        let bytes = self.layout.bytes();
        if slot >= self.slots || frame.len() != bytes {
            return Err(GpuError::Usage(format!(
                "frame of {} bytes into slot {slot}: the ring has {} slots of {bytes} bytes",
                frame.len(),
                self.slots
            )));
        }
        let mut view = self.ring.slice_mut(slot * bytes..(slot + 1) * bytes);
        self.stream.memcpy_htod(frame, &mut view)?;
        Ok(())
    }

    /// Queues the window whose members sit in `member_slots` (oldest first):
    /// both inputs are in [`Self::outputs`] once the stream reaches it.
    pub fn window(&mut self, member_slots: &[usize]) -> Result<(), GpuError> {
        let plan = &self.plan;
        let slots: Vec<i32> = plan
            .members_for(member_slots.len())
            .into_iter()
            .map(|m| {
                member_slots
                    .get(m)
                    .filter(|&&s| s < self.slots)
                    .map(|&s| s as i32)
                    .ok_or_else(|| GpuError::Usage(format!("window member {m}: {member_slots:?}")))
            })
            .collect::<Result<_, _>>()?;
        self.stream.memcpy_htod(&slots, &mut self.plan_slots)?;
        let (crop_x, crop_y, crop) = self.layout.centre_crop();
        let ints = [
            self.layout.format.code(),
            self.layout.width as i32,
            self.layout.height as i32,
            self.layout.pitch as i32,
            crop_x as i32,
            crop_y as i32,
            crop as i32,
            plan.size as i32,
            plan.fast_frames as i32,
            plan.slow_frames as i32,
        ];
        let frame_bytes = self.layout.bytes() as u64;
        let size = plan.size as u32;
        let config = LaunchConfig {
            grid_dim: (size.div_ceil(16), size.div_ceil(16), plan.fast_frames as u32),
            block_dim: (16, 16, 1),
            shared_mem_bytes: 0,
        };
        let mut launch = self.stream.launch_builder(&self.kernel);
        launch
            .arg(&self.ring)
            .arg(&frame_bytes)
            .arg(&self.plan_slots)
            .arg(&self.plan_slow_of);
        for value in &ints {
            launch.arg(value);
        }
        for value in plan.scale.iter().chain(&plan.offset) {
            launch.arg(value);
        }
        launch.arg(&mut self.fast).arg(&mut self.slow);
        // SAFETY: the arguments match window.cu's signature in order and
        // type; every slot index is checked against the ring above, and the
        // grid covers exactly the output buffers' shapes.
        unsafe { launch.launch(config) }?;
        Ok(())
    }

    /// `(slow, fast)` on the device.
    pub fn outputs(&self) -> (&CudaSlice<f32>, &CudaSlice<f32>) {
        (&self.slow, &self.fast)
    }

    /// `(slow, fast)` copied to the host (waits for the stream).
    pub fn download(&self) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
        Ok((self.stream.clone_dtoh(&self.slow)?, self.stream.clone_dtoh(&self.fast)?))
    }
}
