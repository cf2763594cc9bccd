SUMMARY = "actrec station: the engine, its config, media stack and NVIDIA runtime"
DESCRIPTION = "What the engine needs at run time besides its libraries: \
               GStreamer plugins (generic and NVIDIA), the argus daemon for \
               CSI cameras, TensorRT with trtexec, cuDNN and the CUDA runtime."
LICENSE = "MIT"

# Tegra packages are machine specific (TEGRA_PKGARCH), so is this group.
PACKAGE_ARCH = "${MACHINE_ARCH}"

inherit packagegroup

# GStreamer: what app/media builds its pipelines from. The meta packages keep
# up with the plugins the profiles use (appsrc/appsink, x264enc, avdec_h264,
# h264parse, rtp/rtsp, mp4mux/splitmuxsink, v4l2src, textoverlay); NVIDIA's
# plugins for the Jetson profile (nvarguscamerasrc, nvv4l2decoder,
# nvv4l2h264enc, nvvidconv) and the argus daemon behind CSI cameras.
ACTREC_GSTREAMER = "gstreamer1.0-libav \
                    gstreamer1.0-plugins-bad-meta \
                    gstreamer1.0-plugins-base-meta \
                    gstreamer1.0-plugins-good-meta \
                    gstreamer1.0-plugins-nvarguscamerasrc \
                    gstreamer1.0-plugins-nvvidconv \
                    gstreamer1.0-plugins-nvvideo4linux2 \
                    gstreamer1.0-plugins-ugly-meta \
                    tegra-argus-daemon \
                    "

# TensorRT (trtexec builds the engines in actrec-engine-build.service), cuDNN
# and the CUDA runtime; the TensorRT shim comes with the GPU issue.
ACTREC_GPU = "cuda-cudart cudnn tensorrt-core tensorrt-trtexec"

RDEPENDS:${PN} = "${ACTREC_GPU} ${ACTREC_GSTREAMER} actrec actrec-config"
