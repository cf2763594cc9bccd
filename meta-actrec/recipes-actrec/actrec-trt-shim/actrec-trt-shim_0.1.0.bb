SUMMARY = "actrec TensorRT shim: libactrec_trt, an extern \"C\" ABI over TensorRT"
DESCRIPTION = "A small C++ library between actrec-infer and TensorRT, so that \
               the Rust side sees one C ABI across TensorRT 8.2 (Nano, bindings \
               API) and 8.5 (Xavier, tensor API)."
HOMEPAGE = "https://example.invalid/actrec"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

# NOTE: the source arrives with the GPU issue, at app/infer/trt-shim/ (C++,
# CMake, against the TensorRT headers). Until its CMakeLists.txt exists this
# recipe is skipped, with this reason; actrec's PACKAGECONFIG "tensorrt" is
# what pulls it in.
require recipes-actrec/actrec/actrec-source.inc
EXTERNALSRC = "${ACTREC_SRC_DIR}/app/infer/trt-shim"
SKIP_RECIPE[actrec-trt-shim] = "${@'' if os.path.isfile(d.getVar('EXTERNALSRC') + '/CMakeLists.txt') \
                                 else 'app/infer/trt-shim/ is not in the tree yet (the GPU issue)'}"

DEPENDS += "cuda-cudart tensorrt-core"

# No fetch: the source is the tree (externalsrc).
SRC_URI = ""

COMPATIBLE_MACHINE = "(tegra)"

inherit cmake cuda

# Planned: the library gets a SONAME (libactrec_trt.so.1) and the engine
# opens that name, so the default packaging applies (the .so.1 here, the
# libactrec_trt.so link in -dev). An unversioned-only library would need
# FILES_SOLIBSDEV = "" and a dev-so QA skip instead.
RDEPENDS:${PN} += "cuda-cudart tensorrt-core"
