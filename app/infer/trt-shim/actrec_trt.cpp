// actrec_trt.cpp: actrec_trt.h over TensorRT 8.2 (Jetson Nano, JetPack 4.6,
// the bindings API), 8.5 and 8.6 (Xavier and Orin on JetPack 5 and 6, the
// tensor API) and 10.x (the tensor API; the bindings API is gone).
//
// NOT RUN YET: no TensorRT exists where this was written. It was compiled
// against the public headers of TensorRT 8.2 to 11 (tools/check-trt-shim);
// never linked nor run. The window preprocessing it forwards to
// (actrec_window.cu, built when CMake finds nvcc) was built with nvcc and
// checked on a GPU without TensorRT (docs/GPU.md). Keep it small, so that the
// first run on a Jetson is short.

#include "actrec_trt.h"
#ifdef ACTREC_TRT_WINDOW
#include "actrec_window.h"
#endif

#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#define ACTREC_TRT_TENSOR_API (NV_TENSORRT_MAJOR > 8 || (NV_TENSORRT_MAJOR == 8 && NV_TENSORRT_MINOR >= 5))

namespace {

void write_error(char *error, size_t error_len, const std::string &message) {
  if (error == nullptr || error_len == 0) return;
  size_t n = message.size() < error_len - 1 ? message.size() : error_len - 1;
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

int fail(char *error, size_t error_len, const std::string &message) {
  write_error(error, error_len, message);
  return 1;
}

int cuda_fail(char *error, size_t error_len, const char *what, cudaError_t status) {
  return fail(error, error_len, std::string(what) + ": " + cudaGetErrorString(status));
}

// TensorRT reports through a logger; warnings go to stderr (the journal), and
// the last error explains a failed load.
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char *message) noexcept override {
    if (severity > Severity::kWARNING) return;
    std::fprintf(stderr, "actrec_trt: TensorRT: %s\n", message);
    if (severity <= Severity::kERROR) {
      try {
        last_error = message;
      } catch (...) {
      }
    }
  }
  std::string last_error;
};

size_t element_size(nvinfer1::DataType type) {
  switch (type) {
    case nvinfer1::DataType::kFLOAT:
    case nvinfer1::DataType::kINT32:
      return 4;
    case nvinfer1::DataType::kHALF:
      return 2;
    case nvinfer1::DataType::kINT8:
    case nvinfer1::DataType::kBOOL:
      return 1;
    default:
      return 0;
  }
}

struct Tensor {
  actrec_trt_tensor description;
  size_t volume = 0;
  size_t bytes = 0;
  void *device = nullptr;
};

}  // namespace

struct actrec_trt_engine {
  // Declared in the order they are made; destroyed in reverse, after the
  // destructor's body has freed the buffers and the stream.
  Logger logger;
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  cudaStream_t stream = nullptr;
  std::vector<Tensor> tensors;
  std::vector<void *> bindings;  // 8.2: device pointers by binding index
#ifdef ACTREC_TRT_WINDOW
  actrec::WindowRing window;
  float *window_fast = nullptr;  // the engine's input buffers the window writes
  float *window_slow = nullptr;
#endif

  ~actrec_trt_engine() {
#ifdef ACTREC_TRT_WINDOW
    // The ring's device memory goes before the stream it was used on.
    cudaStreamSynchronize(stream);
#endif
    for (Tensor &t : tensors) cudaFree(t.device);
    if (stream != nullptr) cudaStreamDestroy(stream);
  }
};

namespace {

// Describes IO tensor `index` and gives it a device buffer.
template <typename Dims>
int add_tensor(actrec_trt_engine &e, const char *name, bool input, const Dims &dims, nvinfer1::DataType type,
               char *error, size_t error_len) {
  Tensor t;
  std::memset(&t.description, 0, sizeof t.description);
  std::snprintf(t.description.name, sizeof t.description.name, "%s", name);
  t.description.is_input = input ? 1 : 0;
  t.description.data_type = static_cast<int32_t>(type);
  if (dims.nbDims < 0 || dims.nbDims > ACTREC_TRT_MAX_RANK)
    return fail(error, error_len, std::string("tensor ") + name + ": rank " + std::to_string(dims.nbDims));
  t.description.rank = dims.nbDims;
  t.volume = 1;
  for (int i = 0; i < dims.nbDims; ++i) {
    t.description.dims[i] = static_cast<int64_t>(dims.d[i]);
    if (dims.d[i] < 0)
      return fail(error, error_len,
                  std::string("tensor ") + name + " has a dynamic dimension: build the engine with fixed shapes");
    t.volume *= static_cast<size_t>(dims.d[i]);
  }
  size_t size = element_size(type);
  if (size == 0)
    return fail(error, error_len,
                std::string("tensor ") + name + ": data type " + std::to_string(static_cast<int>(type)) +
                    " is not supported");
  t.bytes = t.volume * size;
  cudaError_t status = cudaMalloc(&t.device, t.bytes > 0 ? t.bytes : 1);
  if (status != cudaSuccess) return cuda_fail(error, error_len, "cudaMalloc", status);
  e.tensors.push_back(t);
  return 0;
}

int describe_io(actrec_trt_engine &e, char *error, size_t error_len) {
#if ACTREC_TRT_TENSOR_API
  int n = e.engine->getNbIOTensors();
  for (int i = 0; i < n; ++i) {
    const char *name = e.engine->getIOTensorName(i);
    bool input = e.engine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    if (add_tensor(e, name, input, e.engine->getTensorShape(name), e.engine->getTensorDataType(name), error,
                   error_len) != 0)
      return 1;
    if (!e.context->setTensorAddress(name, e.tensors.back().device))
      return fail(error, error_len, std::string("setTensorAddress(") + name + ") failed: " + e.logger.last_error);
  }
#else
  int n = e.engine->getNbBindings();
  for (int i = 0; i < n; ++i) {
    if (add_tensor(e, e.engine->getBindingName(i), e.engine->bindingIsInput(i), e.engine->getBindingDimensions(i),
                   e.engine->getBindingDataType(i), error, error_len) != 0)
      return 1;
    e.bindings.push_back(e.tensors.back().device);
  }
#endif
  return 0;
}

Tensor *tensor_at(actrec_trt_engine *e, int32_t index) {
  if (e == nullptr || index < 0 || static_cast<size_t>(index) >= e->tensors.size()) return nullptr;
  return &e->tensors[static_cast<size_t>(index)];
}

}  // namespace

#pragma GCC visibility push(default)

extern "C" {

uint32_t actrec_trt_abi_version(void) { return ACTREC_TRT_ABI_VERSION; }

uint32_t actrec_trt_tensorrt_version(void) {
  return NV_TENSORRT_MAJOR * 10000u + NV_TENSORRT_MINOR * 100u + NV_TENSORRT_PATCH;
}

int32_t actrec_trt_device_name(char *name, size_t name_len, char *error, size_t error_len) {
  cudaDeviceProp properties;
  cudaError_t status = cudaGetDeviceProperties(&properties, 0);
  if (status != cudaSuccess) return cuda_fail(error, error_len, "cudaGetDeviceProperties", status);
  write_error(name, name_len, properties.name);
  return 0;
}

actrec_trt_engine *actrec_trt_load(const uint8_t *data, size_t len, char *error, size_t error_len) {
  if (data == nullptr || len == 0) {
    write_error(error, error_len, "the engine file is empty");
    return nullptr;
  }
  try {
    std::unique_ptr<actrec_trt_engine> e(new actrec_trt_engine());
    e->runtime.reset(nvinfer1::createInferRuntime(e->logger));
    if (!e->runtime) {
      write_error(error, error_len, "createInferRuntime failed: " + e->logger.last_error);
      return nullptr;
    }
    e->engine.reset(e->runtime->deserializeCudaEngine(data, len));
    if (!e->engine) {
      write_error(error, error_len,
                  "not an engine of this TensorRT and GPU (rebuild it with `actrec build-engine`): " +
                      e->logger.last_error);
      return nullptr;
    }
    e->context.reset(e->engine->createExecutionContext());
    if (!e->context) {
      write_error(error, error_len, "createExecutionContext failed: " + e->logger.last_error);
      return nullptr;
    }
    cudaError_t status = cudaStreamCreateWithFlags(&e->stream, cudaStreamNonBlocking);
    if (status != cudaSuccess) {
      cuda_fail(error, error_len, "cudaStreamCreate", status);
      return nullptr;
    }
    if (describe_io(*e, error, error_len) != 0) return nullptr;
    return e.release();
  } catch (const std::exception &ex) {
    write_error(error, error_len, std::string("loading the engine: ") + ex.what());
  } catch (...) {
    write_error(error, error_len, "loading the engine: unknown C++ exception");
  }
  return nullptr;
}

int32_t actrec_trt_io_count(const actrec_trt_engine *engine) {
  return engine == nullptr ? 0 : static_cast<int32_t>(engine->tensors.size());
}

int32_t actrec_trt_io_describe(const actrec_trt_engine *engine, int32_t index, actrec_trt_tensor *tensor,
                               char *error, size_t error_len) {
  Tensor *t = tensor_at(const_cast<actrec_trt_engine *>(engine), index);
  if (t == nullptr || tensor == nullptr) return fail(error, error_len, "no IO tensor " + std::to_string(index));
  *tensor = t->description;
  return 0;
}

int32_t actrec_trt_set_input(actrec_trt_engine *engine, int32_t index, const float *data, size_t count, char *error,
                             size_t error_len) {
  Tensor *t = tensor_at(engine, index);
  if (t == nullptr || !t->description.is_input)
    return fail(error, error_len, "no input tensor " + std::to_string(index));
  if (t->description.data_type != ACTREC_TRT_FLOAT || count != t->volume || data == nullptr)
    return fail(error, error_len,
                std::string("input ") + t->description.name + " takes " + std::to_string(t->volume) +
                    " floats, given " + std::to_string(count));
  // From pageable memory this returns once the data is staged, so the
  // caller may reuse its buffer at once.
  cudaError_t status = cudaMemcpyAsync(t->device, data, t->bytes, cudaMemcpyHostToDevice, engine->stream);
  return status == cudaSuccess ? 0 : cuda_fail(error, error_len, "cudaMemcpyAsync (input)", status);
}

void *actrec_trt_device_buffer(actrec_trt_engine *engine, int32_t index) {
  Tensor *t = tensor_at(engine, index);
  return t == nullptr ? nullptr : t->device;
}

int32_t actrec_trt_enqueue(actrec_trt_engine *engine, char *error, size_t error_len) {
  if (engine == nullptr) return fail(error, error_len, "no engine");
#if ACTREC_TRT_TENSOR_API
  bool queued = engine->context->enqueueV3(engine->stream);
#else
  bool queued = engine->context->enqueueV2(engine->bindings.data(), engine->stream, nullptr);
#endif
  return queued ? 0 : fail(error, error_len, "enqueue failed: " + engine->logger.last_error);
}

int32_t actrec_trt_synchronize(actrec_trt_engine *engine, char *error, size_t error_len) {
  if (engine == nullptr) return fail(error, error_len, "no engine");
  cudaError_t status = cudaStreamSynchronize(engine->stream);
  return status == cudaSuccess ? 0 : cuda_fail(error, error_len, "cudaStreamSynchronize", status);
}

int32_t actrec_trt_get_output(actrec_trt_engine *engine, int32_t index, float *data, size_t count, char *error,
                              size_t error_len) {
  Tensor *t = tensor_at(engine, index);
  if (t == nullptr || t->description.is_input)
    return fail(error, error_len, "no output tensor " + std::to_string(index));
  if (t->description.data_type != ACTREC_TRT_FLOAT || count != t->volume || data == nullptr)
    return fail(error, error_len,
                std::string("output ") + t->description.name + " holds " + std::to_string(t->volume) +
                    " floats, asked for " + std::to_string(count));
  cudaError_t status = cudaMemcpyAsync(data, t->device, t->bytes, cudaMemcpyDeviceToHost, engine->stream);
  if (status == cudaSuccess) status = cudaStreamSynchronize(engine->stream);
  return status == cudaSuccess ? 0 : cuda_fail(error, error_len, "cudaMemcpyAsync (output)", status);
}

#ifdef ACTREC_TRT_WINDOW
namespace {

// Input `index` as a float buffer of `volume` values, or an error.
float *window_input(actrec_trt_engine *engine, int32_t index, size_t volume, const char *which, std::string &error) {
  Tensor *t = tensor_at(engine, index);
  if (t == nullptr || !t->description.is_input || t->description.data_type != ACTREC_TRT_FLOAT ||
      t->volume != volume) {
    error = std::string("window plan: the ") + which + " input (IO tensor " + std::to_string(index) +
            ") must be a float input of " + std::to_string(volume) + " values";
    return nullptr;
  }
  return static_cast<float *>(t->device);
}

}  // namespace
#endif

int32_t actrec_trt_window_plan_set(actrec_trt_engine *engine, const actrec_trt_window_plan *plan, char *error,
                                   size_t error_len) {
  if (engine == nullptr || plan == nullptr) return fail(error, error_len, "no engine or no plan");
#ifdef ACTREC_TRT_WINDOW
  try {
    std::string message;
    float *fast = window_input(engine, plan->fast_input, actrec::WindowRing::input_volume(*plan, true), "fast",
                               message);
    float *slow = fast == nullptr ? nullptr
                                  : window_input(engine, plan->slow_input,
                                                 actrec::WindowRing::input_volume(*plan, false), "slow", message);
    if (slow == nullptr || !engine->window.make(*plan, message)) return fail(error, error_len, message);
    engine->window_fast = fast;
    engine->window_slow = slow;
    return 0;
  } catch (const std::exception &ex) {
    return fail(error, error_len, std::string("window plan: ") + ex.what());
  }
#else
  return fail(error, error_len, "this shim was built without nvcc: no preprocessing on the GPU");
#endif
}

int32_t actrec_trt_window_upload(actrec_trt_engine *engine, int32_t slot, const uint8_t *frame, size_t len,
                                 char *error, size_t error_len) {
  if (engine == nullptr) return fail(error, error_len, "no engine");
#ifdef ACTREC_TRT_WINDOW
  try {
    std::string message;
    return engine->window.upload(slot, frame, len, engine->stream, message) ? 0 : fail(error, error_len, message);
  } catch (const std::exception &ex) {
    return fail(error, error_len, std::string("window upload: ") + ex.what());
  }
#else
  (void)slot, (void)frame, (void)len;
  return fail(error, error_len, "this shim was built without nvcc: no preprocessing on the GPU");
#endif
}

int32_t actrec_trt_window_run(actrec_trt_engine *engine, const int32_t *slots, int32_t count, char *error,
                              size_t error_len) {
  if (engine == nullptr) return fail(error, error_len, "no engine");
#ifdef ACTREC_TRT_WINDOW
  try {
    std::string message;
    return engine->window.run(slots, count, engine->window_fast, engine->window_slow, engine->stream, message)
               ? 0
               : fail(error, error_len, message);
  } catch (const std::exception &ex) {
    return fail(error, error_len, std::string("window run: ") + ex.what());
  }
#else
  (void)slots, (void)count;
  return fail(error, error_len, "this shim was built without nvcc: no preprocessing on the GPU");
#endif
}

void actrec_trt_destroy(actrec_trt_engine *engine) { delete engine; }

}  // extern "C"

#pragma GCC visibility pop
