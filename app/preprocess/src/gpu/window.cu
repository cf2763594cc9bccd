// One window of decoded frames to both network inputs, on the GPU: centre
// crop, box-filter resize to the model's size, colour conversion, the
// manifest's normalisation, and the fast/slow NCTHW packing, in one pass.
// actrec_preprocess::gpu::reference_window is the same arithmetic on the CPU
// (tests/gpu_matches_cpu.rs holds them to 1e-3). Compiled at run time by NVRTC
// (cudarc); kept plain C so nvcc can build it into the TensorRT shim for the
// Nano's CUDA 10.2.
//
// One thread per output pixel of one fast frame (grid z = fast frame).
// Frames sit in `ring`, `frame_bytes` apart; `slots[t]` is the slot of fast
// frame t, and `slow_of[t]` the slow frame it also feeds, or -1.
// Formats: 0 = NV12 (BT.709, limited range: what H.264 cameras send),
// 1 = RGBA.

extern "C" __global__ void actrec_window(const unsigned char *ring, unsigned long long frame_bytes,
                                         const int *slots, const int *slow_of, int format, int width,
                                         int height, int pitch, int crop_x, int crop_y, int crop,
                                         int size, int fast_frames, int slow_frames, float s0, float s1,
                                         float s2, float o0, float o1, float o2, float *fast_out,
                                         float *slow_out) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  int t = blockIdx.z;
  if (x >= size || y >= size || t >= fast_frames) return;
  const unsigned char *frame = ring + (unsigned long long)slots[t] * frame_bytes;
  // The output pixel's box in the source: [x0, x1) x [y0, y1).
  int x0 = crop_x + (x * crop) / size, x1 = crop_x + ((x + 1) * crop) / size;
  int y0 = crop_y + (y * crop) / size, y1 = crop_y + ((y + 1) * crop) / size;
  float rgb[3];
  if (format == 0) {
    unsigned int sum = 0;
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) sum += frame[yy * pitch + xx];
    float luma = (float)sum / (float)((x1 - x0) * (y1 - y0));
    // The chroma samples under the box (4:2:0: one per 2 x 2 pixels).
    const unsigned char *uv = frame + (unsigned long long)pitch * height;
    int cx0 = x0 >> 1, cx1 = ((x1 - 1) >> 1) + 1, cy0 = y0 >> 1, cy1 = ((y1 - 1) >> 1) + 1;
    unsigned int su = 0, sv = 0;
    for (int yy = cy0; yy < cy1; ++yy)
      for (int xx = cx0; xx < cx1; ++xx) {
        su += uv[yy * pitch + 2 * xx];
        sv += uv[yy * pitch + 2 * xx + 1];
      }
    float n = (float)((cx1 - cx0) * (cy1 - cy0));
    float c = 1.164383f * (luma - 16.0f), u = (float)su / n - 128.0f, v = (float)sv / n - 128.0f;
    rgb[0] = c + 1.792741f * v;
    rgb[1] = c - 0.213249f * u - 0.532909f * v;
    rgb[2] = c + 2.112402f * u;
  } else {
    unsigned int sum[3] = {0, 0, 0};
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) {
        const unsigned char *p = frame + yy * pitch + 4 * xx;
        sum[0] += p[0];
        sum[1] += p[1];
        sum[2] += p[2];
      }
    float n = (float)((x1 - x0) * (y1 - y0));
    for (int ch = 0; ch < 3; ++ch) rgb[ch] = (float)sum[ch] / n;
  }
  float scale[3] = {s0, s1, s2}, offset[3] = {o0, o1, o2};
  int plane = size * size, pixel = y * size + x, slow_t = slow_of[t];
  for (int ch = 0; ch < 3; ++ch) {
    float value = fminf(fmaxf(rgb[ch], 0.0f), 255.0f) * scale[ch] + offset[ch];
    fast_out[(ch * fast_frames + t) * plane + pixel] = value;
    if (slow_t >= 0) slow_out[(ch * slow_frames + slow_t) * plane + pixel] = value;
  }
}
