SUMMARY = "actrec TensorRT shim: libactrec_trt, an extern \"C\" ABI over TensorRT"
DESCRIPTION = "A small C++ library between actrec-infer and TensorRT, so that \
               the Rust side sees one C ABI across TensorRT 8.2 (Nano, bindings \
               API), 8.5/8.6 (Xavier, Orin: tensor API) and 10.x."
HOMEPAGE = "https://example.invalid/actrec"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

# The source is app/infer/trt-shim/ (C++, CMake, against the TensorRT
# headers); skipped, with this reason, in a tree without it. actrec's
# PACKAGECONFIG "tensorrt" is what pulls it in. It has not been built by
# bitbake yet (docs/GPU.md).
require recipes-actrec/actrec/actrec-source.inc
EXTERNALSRC = "${ACTREC_SRC_DIR}/app/infer/trt-shim"
SKIP_RECIPE[actrec-trt-shim] = "${@'' if os.path.isfile(d.getVar('EXTERNALSRC') + '/CMakeLists.txt') \
                                 else 'app/infer/trt-shim/CMakeLists.txt is not in this tree'}"

DEPENDS += "cuda-cudart tensorrt-core"

# No fetch: the source is the tree (externalsrc).
SRC_URI = ""

COMPATIBLE_MACHINE = "(tegra)"

inherit cmake cuda

# meta-tegra installs CUDA under /usr/local/cuda-X.Y in the sysroot. The
# cuda class puts nvcc on PATH and the machine's GPU architecture in
# CUDAFLAGS, so CMake adds none of its own: the shim's window
# preprocessing (actrec_window.cu) is built for this machine's GPU.
EXTRA_OECMAKE += "-DCUDA_ROOT=${STAGING_DIR_HOST}/usr/local/cuda-${CUDA_VERSION} -DCMAKE_CUDA_ARCHITECTURES=OFF"

# The library's SONAME is libactrec_trt.so.2 and the engine opens that
# name, so the default packaging applies (the .so.2 here, the
# libactrec_trt.so link and actrec_trt.h in -dev).
RDEPENDS:${PN} += "cuda-cudart tensorrt-core"
