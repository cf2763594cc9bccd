/*
 * actrec_trt.h: the C ABI between actrec (Rust, actrec-infer's `tensorrt`
 * backend) and TensorRT. One engine, batch 1, float IO tensors of fixed
 * shape; each engine owns its CUDA stream and device buffers.
 *
 * The Rust side opens libactrec_trt.so.1 at run time and refuses a shim whose
 * actrec_trt_abi_version() differs from ACTREC_TRT_ABI_VERSION. Every
 * function that can fail returns 0 on success, or non-zero after writing a
 * NUL-terminated message into the caller's `error` buffer (never more than
 * `error_len` bytes). No function throws or aborts; none keeps a pointer the
 * caller passed in after it returns.
 *
 * Change anything here and bump ACTREC_TRT_ABI_VERSION, in this file, in
 * app/infer/src/tensorrt/ffi.rs, and in the fake shim (app/infer/fake-trt-shim).
 */
#ifndef ACTREC_TRT_H
#define ACTREC_TRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACTREC_TRT_ABI_VERSION 1
#define ACTREC_TRT_MAX_RANK 8
#define ACTREC_TRT_NAME_LEN 64

/* TensorRT's DataType values, which are the same in 8.2, 8.5 and 10.x. */
enum actrec_trt_data_type {
  ACTREC_TRT_FLOAT = 0,
  ACTREC_TRT_HALF = 1,
  ACTREC_TRT_INT8 = 2,
  ACTREC_TRT_INT32 = 3,
  ACTREC_TRT_BOOL = 4
};

typedef struct actrec_trt_engine actrec_trt_engine;

typedef struct actrec_trt_tensor {
  char name[ACTREC_TRT_NAME_LEN]; /* NUL-terminated */
  int32_t is_input;               /* 1 input, 0 output */
  int32_t data_type;              /* enum actrec_trt_data_type, or TensorRT's own value */
  int32_t rank;
  int64_t dims[ACTREC_TRT_MAX_RANK]; /* -1 for a dynamic dimension */
} actrec_trt_tensor;

/* ACTREC_TRT_ABI_VERSION of the shim as built. */
uint32_t actrec_trt_abi_version(void);

/* The TensorRT the shim was built against, as major * 10000 + minor * 100 + patch
 * (8.2.1 -> 80201, 10.3.0 -> 100300). */
uint32_t actrec_trt_tensorrt_version(void);

/* The name of CUDA device 0 (e.g. "Xavier", "NVIDIA H100 80GB HBM3"):
 * engines are specific to it. */
int32_t actrec_trt_device_name(char *name, size_t name_len, char *error, size_t error_len);

/* Deserialises a serialised engine (trtexec --saveEngine), makes its
 * execution context, stream and device buffers. NULL on failure. */
actrec_trt_engine *actrec_trt_load(const uint8_t *engine, size_t engine_len, char *error, size_t error_len);

/* The number of IO tensors, and each one's description, by index. */
int32_t actrec_trt_io_count(const actrec_trt_engine *engine);
int32_t actrec_trt_io_describe(const actrec_trt_engine *engine, int32_t index, actrec_trt_tensor *tensor,
                               char *error, size_t error_len);

/* Copies `count` floats to input `index`'s device buffer (queued on the
 * engine's stream); `count` must be the tensor's volume. */
int32_t actrec_trt_set_input(actrec_trt_engine *engine, int32_t index, const float *data, size_t count,
                             char *error, size_t error_len);

/* The device buffer of IO tensor `index`, for CUDA preprocessing that writes
 * the input in place (same device, the primary context). NULL if no such tensor. */
void *actrec_trt_device_buffer(actrec_trt_engine *engine, int32_t index);

/* Queues the network on the engine's stream. */
int32_t actrec_trt_enqueue(actrec_trt_engine *engine, char *error, size_t error_len);

/* Waits for everything queued on the engine's stream. */
int32_t actrec_trt_synchronize(actrec_trt_engine *engine, char *error, size_t error_len);

/* Copies output `index` (its whole volume, `count` floats) to `data`, after
 * a synchronise. */
int32_t actrec_trt_get_output(actrec_trt_engine *engine, int32_t index, float *data, size_t count, char *error,
                              size_t error_len);

/* Frees the engine, its context, stream and buffers. NULL is ignored. */
void actrec_trt_destroy(actrec_trt_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* ACTREC_TRT_H */
