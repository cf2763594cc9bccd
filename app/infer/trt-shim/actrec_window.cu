// actrec_window.cu: window.cu (app/preprocess/src/gpu/, the kernel actrec
// compiles with NVRTC on CUDA 11.4 and later) built with nvcc, for the shim.
// The kernel's source is included, not copied: both paths run one kernel.
// Plain C++14 and CUDA runtime calls that CUDA 10.2 (the Nano) has.

#include "actrec_window.h"

#include "window.cu"

namespace actrec {

namespace {

bool cuda_ok(cudaError_t status, const char *what, std::string &error) {
  if (status == cudaSuccess) return true;
  error = std::string(what) + ": " + cudaGetErrorString(status);
  return false;
}

std::string check_plan(const actrec_trt_window_plan &p) {
  const int bytes_per_pixel = p.format == 1 ? 4 : 1;
  if (p.format != 0 && p.format != 1) return "format " + std::to_string(p.format) + " (0 NV12, 1 RGBA)";
  if (p.width <= 0 || p.height <= 0 || p.pitch < p.width * bytes_per_pixel)
    return "frame " + std::to_string(p.width) + "x" + std::to_string(p.height) + ", pitch " + std::to_string(p.pitch);
  if (p.format == 0 && (p.width % 2 != 0 || p.height % 2 != 0 || p.crop_x % 2 != 0 || p.crop_y % 2 != 0))
    return "NV12 needs even sizes and an even crop origin";
  if (p.size <= 0 || p.crop < p.size || p.crop_x < 0 || p.crop_y < 0 || p.crop_x + p.crop > p.width ||
      p.crop_y + p.crop > p.height)
    return "crop " + std::to_string(p.crop) + " at (" + std::to_string(p.crop_x) + ", " + std::to_string(p.crop_y) +
           ") for a model side of " + std::to_string(p.size);
  if (p.fast_frames <= 0 || p.fast_frames > ACTREC_TRT_MAX_WINDOW || p.slow_frames < 0 ||
      p.slow_frames > p.fast_frames)
    return "fast frames " + std::to_string(p.fast_frames) + ", slow frames " + std::to_string(p.slow_frames);
  if (p.slots < 1) return "a ring of " + std::to_string(p.slots) + " slots";
  for (int t = 0; t < p.fast_frames; ++t)
    if (p.slow_of[t] < -1 || p.slow_of[t] >= p.slow_frames)
      return "slow_of[" + std::to_string(t) + "] = " + std::to_string(p.slow_of[t]);
  return "";
}

}  // namespace

size_t WindowRing::frame_bytes() const {
  size_t rows = static_cast<size_t>(plan_.height);
  size_t pitch = static_cast<size_t>(plan_.pitch);
  return plan_.format == 0 ? pitch * rows * 3 / 2 : pitch * rows;
}

size_t WindowRing::input_volume(const actrec_trt_window_plan &plan, bool fast) {
  size_t frames = static_cast<size_t>(fast ? plan.fast_frames : plan.slow_frames);
  return 3 * frames * static_cast<size_t>(plan.size) * static_cast<size_t>(plan.size);
}

void WindowRing::release() {
  cudaFree(ring_);
  cudaFree(slots_);
  cudaFree(slow_of_);
  ring_ = nullptr;
  slots_ = nullptr;
  slow_of_ = nullptr;
}

bool WindowRing::make(const actrec_trt_window_plan &plan, std::string &error) {
  release();
  std::string wrong = check_plan(plan);
  if (!wrong.empty()) {
    error = "window plan: " + wrong;
    return false;
  }
  plan_ = plan;
  size_t fast = static_cast<size_t>(plan.fast_frames);
  unsigned char *ring = nullptr;
  int *slots = nullptr;
  int *slow_of = nullptr;
  bool ok = cuda_ok(cudaMalloc(&ring, frame_bytes() * static_cast<size_t>(plan.slots)), "cudaMalloc (ring)", error) &&
            cuda_ok(cudaMalloc(&slots, fast * sizeof(int)), "cudaMalloc (slots)", error) &&
            cuda_ok(cudaMalloc(&slow_of, fast * sizeof(int)), "cudaMalloc (slow_of)", error) &&
            cuda_ok(cudaMemcpy(slow_of, plan.slow_of, fast * sizeof(int), cudaMemcpyHostToDevice), "cudaMemcpy (slow_of)",
                    error);
  ring_ = ring;
  slots_ = slots;
  slow_of_ = slow_of;
  if (!ok) release();
  host_slots_.assign(fast, 0);
  return ok;
}

bool WindowRing::upload(int32_t slot, const uint8_t *frame, size_t len, cudaStream_t stream, std::string &error) {
  if (!ready()) {
    error = "no window plan: call actrec_trt_window_plan_set first";
    return false;
  }
  if (slot < 0 || slot >= plan_.slots || frame == nullptr || len != frame_bytes()) {
    error = "frame of " + std::to_string(len) + " bytes into slot " + std::to_string(slot) + ": the ring has " +
            std::to_string(plan_.slots) + " slots of " + std::to_string(frame_bytes()) + " bytes";
    return false;
  }
  return cuda_ok(cudaMemcpyAsync(ring_ + frame_bytes() * static_cast<size_t>(slot), frame, len, cudaMemcpyHostToDevice,
                                 stream),
                 "cudaMemcpyAsync (frame)", error);
}

bool WindowRing::run(const int32_t *slots, int32_t count, float *fast, float *slow, cudaStream_t stream,
                     std::string &error) {
  if (!ready()) {
    error = "no window plan: call actrec_trt_window_plan_set first";
    return false;
  }
  if (slots == nullptr || count != plan_.fast_frames) {
    error = "a window of " + std::to_string(count) + " slots: the plan has " + std::to_string(plan_.fast_frames) +
            " fast frames";
    return false;
  }
  for (int t = 0; t < count; ++t) {
    if (slots[t] < 0 || slots[t] >= plan_.slots) {
      error = "slot " + std::to_string(slots[t]) + " of fast frame " + std::to_string(t) + ": the ring has " +
              std::to_string(plan_.slots);
      return false;
    }
    host_slots_[static_cast<size_t>(t)] = slots[t];
  }
  // host_slots_ outlives the copy: it changes only at the next run, after
  // the caller has synchronised.
  if (!cuda_ok(cudaMemcpyAsync(slots_, host_slots_.data(), host_slots_.size() * sizeof(int), cudaMemcpyHostToDevice,
                               stream),
               "cudaMemcpyAsync (slots)", error))
    return false;
  const actrec_trt_window_plan &p = plan_;
  dim3 block(16, 16, 1);
  dim3 grid(static_cast<unsigned>((p.size + 15) / 16), static_cast<unsigned>((p.size + 15) / 16),
            static_cast<unsigned>(p.fast_frames));
  actrec_window<<<grid, block, 0, stream>>>(ring_, static_cast<unsigned long long>(frame_bytes()), slots_, slow_of_,
                                            p.format, p.width, p.height, p.pitch, p.crop_x, p.crop_y, p.crop, p.size,
                                            p.fast_frames, p.slow_frames, p.scale[0], p.scale[1], p.scale[2],
                                            p.offset[0], p.offset[1], p.offset[2], fast, slow);
  return cuda_ok(cudaGetLastError(), "launching actrec_window", error);
}

}  // namespace actrec
