// window_check: the shim's window preprocessing (actrec_window.cu, built by
// nvcc) against actrec's CPU reference, on a GPU without TensorRT.
//
//   window_check FIXTURE_DIR
//
// FIXTURE_DIR comes from `window_fixture` (app/preprocess/examples). Prints
// the largest differences and the time per window, with and without the
// upload of its frames; exits 1 when a difference is over 1e-3.

#include "actrec_window.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<char> read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::map<std::string, std::vector<double>> read_plan(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::map<std::string, std::vector<double>> fields;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    double value;
    while (words >> value) fields[key].push_back(value);
  }
  return fields;
}

void check(cudaError_t status, const char *what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

float worst(const std::vector<float> &a, const std::vector<float> &b) {
  float w = 0;
  for (size_t i = 0; i < a.size(); ++i) w = std::max(w, std::fabs(a[i] - b[i]));
  return w;
}

int run(const std::string &dir) {
  auto fields = read_plan(dir + "/plan.txt");
  auto one = [&](const char *key) {
    auto found = fields.find(key);
    if (found == fields.end() || found->second.empty()) throw std::runtime_error(std::string("plan.txt: no ") + key);
    return static_cast<int32_t>(found->second[0]);
  };
  actrec_trt_window_plan plan;
  std::memset(&plan, 0, sizeof plan);
  plan.format = one("format");
  plan.width = one("width");
  plan.height = one("height");
  plan.pitch = one("pitch");
  plan.slots = one("slots");
  plan.crop_x = one("crop_x");
  plan.crop_y = one("crop_y");
  plan.crop = one("crop");
  plan.size = one("size");
  plan.fast_frames = one("fast_frames");
  plan.slow_frames = one("slow_frames");
  for (int c = 0; c < 3; ++c) {
    plan.scale[c] = static_cast<float>(fields.at("scale").at(c));
    plan.offset[c] = static_cast<float>(fields.at("offset").at(c));
  }
  std::vector<int32_t> members;
  for (int t = 0; t < plan.fast_frames; ++t) {
    plan.slow_of[t] = static_cast<int32_t>(fields.at("slow_of").at(t));
    members.push_back(static_cast<int32_t>(fields.at("members").at(t)));
  }

  actrec::WindowRing ring;
  std::string error;
  // A plan the kernel cannot run is refused with the reason, before any launch.
  actrec_trt_window_plan bad = plan;
  bad.crop = plan.size - 1;
  actrec::WindowRing refused;
  if (refused.make(bad, error)) throw std::runtime_error("a crop smaller than the model's side was accepted");
  std::printf("refused as it should be: %s\n", error.c_str());
  if (!ring.make(plan, error)) throw std::runtime_error(error);
  std::vector<char> frames = read_file(dir + "/frames.bin");
  size_t frame_bytes = ring.frame_bytes();
  if (frames.size() != frame_bytes * static_cast<size_t>(plan.slots))
    throw std::runtime_error("frames.bin: " + std::to_string(frames.size()) + " bytes, not " +
                             std::to_string(plan.slots) + " frames of " + std::to_string(frame_bytes));
  std::vector<float> want_fast(actrec::WindowRing::input_volume(plan, true));
  std::vector<float> want_slow(actrec::WindowRing::input_volume(plan, false));
  for (auto *want : {&want_fast, &want_slow}) {
    std::vector<char> bytes = read_file(dir + (want == &want_fast ? "/fast.bin" : "/slow.bin"));
    if (bytes.size() != want->size() * sizeof(float)) throw std::runtime_error("reference of the wrong size");
    std::memcpy(want->data(), bytes.data(), bytes.size());
  }

  // Pinned frames, as the engine's ring of decoded frames would be.
  void *pinned = nullptr;
  check(cudaMallocHost(&pinned, frames.size()), "cudaMallocHost");
  std::memcpy(pinned, frames.data(), frames.size());
  const uint8_t *host = static_cast<const uint8_t *>(pinned);
  void *fast_buffer = nullptr, *slow_buffer = nullptr;
  check(cudaMalloc(&fast_buffer, want_fast.size() * sizeof(float)), "cudaMalloc");
  check(cudaMalloc(&slow_buffer, want_slow.size() * sizeof(float)), "cudaMalloc");
  float *fast = static_cast<float *>(fast_buffer), *slow = static_cast<float *>(slow_buffer);
  cudaStream_t stream;
  check(cudaStreamCreate(&stream), "cudaStreamCreate");

  auto upload_all = [&]() {
    for (int32_t slot = 0; slot < plan.slots; ++slot)
      if (!ring.upload(slot, host + frame_bytes * static_cast<size_t>(slot), frame_bytes, stream, error))
        throw std::runtime_error(error);
  };
  auto window = [&]() {
    if (!ring.run(members.data(), static_cast<int32_t>(members.size()), fast, slow, stream, error))
      throw std::runtime_error(error);
  };
  upload_all();
  window();
  check(cudaStreamSynchronize(stream), "the window");
  std::vector<float> got_fast(want_fast.size()), got_slow(want_slow.size());
  check(cudaMemcpy(got_fast.data(), fast, got_fast.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
  check(cudaMemcpy(got_slow.data(), slow, got_slow.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
  float wf = worst(got_fast, want_fast), ws = worst(got_slow, want_slow);

  // Time per window: the median of 50, kernel alone and with the upload of all its frames.
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  auto median_ms = [&](bool with_upload) {
    std::vector<float> times;
    for (int i = 0; i < 50; ++i) {
      check(cudaEventRecord(start, stream), "cudaEventRecord");
      if (with_upload) upload_all();
      window();
      check(cudaEventRecord(stop, stream), "cudaEventRecord");
      check(cudaEventSynchronize(stop), "cudaEventSynchronize");
      float ms = 0;
      check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
      times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  };
  float kernel = median_ms(false), with_upload = median_ms(true);
  cudaDeviceProp properties;
  check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  std::printf(
      "{\"device\": \"%s\", \"cuda_runtime\": %d, \"format\": %d, \"width\": %d, \"height\": %d, \"frames\": %d, "
      "\"max_abs_diff_fast\": %g, \"max_abs_diff_slow\": %g, \"kernel_ms_median\": %.4f, "
      "\"window_with_upload_ms_median\": %.4f}\n",
      properties.name, runtime, plan.format, plan.width, plan.height, plan.slots, wf, ws, kernel, with_upload);
  cudaFreeHost(pinned);
  cudaFree(fast);
  cudaFree(slow);
  return wf <= 1e-3f && ws <= 1e-3f ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: window_check FIXTURE_DIR\n");
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception &ex) {
    std::fprintf(stderr, "window_check: %s: %s\n", argv[1], ex.what());
    return 2;
  }
}
