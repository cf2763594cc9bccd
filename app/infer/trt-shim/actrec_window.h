// actrec_window.h: the shim's preprocessing on the GPU (actrec_window.cu),
// apart from TensorRT so that nvcc alone builds and checks it
// (check/window_check.cpp, tools/bench/shim-window.sh).
#ifndef ACTREC_WINDOW_H
#define ACTREC_WINDOW_H

#include "actrec_trt.h"

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

namespace actrec {

// A ring of decoded frames on the device and the plan of one model's windows.
class WindowRing {
 public:
  WindowRing() = default;
  WindowRing(const WindowRing &) = delete;
  WindowRing &operator=(const WindowRing &) = delete;
  ~WindowRing() { release(); }

  // Checks `plan` and allocates the ring; on failure `error` says why.
  bool make(const actrec_trt_window_plan &plan, std::string &error);
  // Queues the copy of one frame into `slot`.
  bool upload(int32_t slot, const uint8_t *frame, size_t len, cudaStream_t stream, std::string &error);
  // Queues one window into `fast` and `slow` (device buffers of the plan's shapes).
  bool run(const int32_t *slots, int32_t count, float *fast, float *slow, cudaStream_t stream, std::string &error);

  bool ready() const { return ring_ != nullptr; }
  const actrec_trt_window_plan &plan() const { return plan_; }
  size_t frame_bytes() const;
  // Floats in the fast (or slow) input of `plan`: 3 * frames * size * size.
  static size_t input_volume(const actrec_trt_window_plan &plan, bool fast);

 private:
  void release();

  actrec_trt_window_plan plan_{};
  unsigned char *ring_ = nullptr;
  int *slots_ = nullptr;
  int *slow_of_ = nullptr;
  std::vector<int> host_slots_;
};

}  // namespace actrec

#endif  // ACTREC_WINDOW_H
