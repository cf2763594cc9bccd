/*
 * actrec_trt.h: the C ABI between actrec (Rust, actrec-infer's `tensorrt`
 * backend) and TensorRT. One engine, batch 1, float IO tensors of fixed
 * shape; each engine owns its CUDA stream and device buffers.
 *
 * The Rust side opens libactrec_trt.so.2 at run time and refuses a shim whose
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

#define ACTREC_TRT_ABI_VERSION 2
#define ACTREC_TRT_MAX_RANK 8
#define ACTREC_TRT_NAME_LEN 64
#define ACTREC_TRT_MAX_WINDOW 128

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

/* Preprocessing on the GPU (since ABI 2): window.cu, the kernel actrec
 * compiles with NVRTC where CUDA is 11.4 or later, built into the shim with
 * nvcc, so that the Nano's CUDA 10.2 has it too. Decoded frames go into a
 * ring of device slots, each uploaded once; one launch per window writes both
 * network inputs straight into the engine's input buffers. */

/* How the frames lie and what one window makes of them. actrec computes
 * every field (actrec_preprocess::gpu::WindowPlan and FrameLayout). */
typedef struct actrec_trt_window_plan {
  int32_t format;                        /* 0 NV12 (BT.709 limited range), 1 RGBA */
  int32_t width, height, pitch;          /* of one decoded frame; pitch in bytes per row */
  int32_t slots;                         /* frames the device ring holds */
  int32_t crop_x, crop_y, crop;          /* the square of the frame the model sees */
  int32_t size;                          /* the model's side, in pixels */
  int32_t fast_frames, slow_frames;      /* at most ACTREC_TRT_MAX_WINDOW */
  float scale[3], offset[3];             /* value * scale + offset, per channel */
  int32_t slow_of[ACTREC_TRT_MAX_WINDOW]; /* the slow frame fast frame t feeds, or -1 */
  int32_t fast_input, slow_input;        /* IO tensor indices written */
} actrec_trt_window_plan;

/* Makes the ring for `plan` (replacing an earlier one). The inputs named must
 * be float tensors of 3 * frames * size * size values. */
int32_t actrec_trt_window_plan_set(actrec_trt_engine *engine, const actrec_trt_window_plan *plan, char *error,
                                   size_t error_len);

/* Copies one decoded frame (`len` bytes: pitch * height * 3 / 2 for NV12,
 * pitch * height for RGBA) into ring slot `slot`, queued on the engine's
 * stream. From pageable memory (what actrec passes) CUDA has copied the
 * frame out before this returns; from page-locked memory the caller keeps it
 * unchanged until the next synchronise. */
int32_t actrec_trt_window_upload(actrec_trt_engine *engine, int32_t slot, const uint8_t *frame, size_t len,
                                 char *error, size_t error_len);

/* Queues the kernel for one window: `slots[t]` is the ring slot of fast frame
 * t, `count` is the plan's fast_frames. Then enqueue as usual. */
int32_t actrec_trt_window_run(actrec_trt_engine *engine, const int32_t *slots, int32_t count, char *error,
                              size_t error_len);

/* Frees the engine, its context, stream and buffers. NULL is ignored. */
void actrec_trt_destroy(actrec_trt_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* ACTREC_TRT_H */
