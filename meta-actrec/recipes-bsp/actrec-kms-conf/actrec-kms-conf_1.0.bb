SUMMARY = "Loads tegra-udrm with modeset=1, for the panel on DRM/KMS"
DESCRIPTION = "KMS on L4T goes through the tegra-udrm kernel module, which \
               offers modesetting only with modeset=1 (meta-tegra's Wayland/Weston \
               notes). meta-tegra sets it up only with Weston in the image (R32: \
               tegra-udrm-probeconf) or for the Xavier (R35: tegra194.inc); the kms \
               variant has no Weston, so the station says it itself, on both lines."
HOMEPAGE = "https://example.invalid/actrec"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

SRC_URI = "file://actrec-tegra-udrm-load.conf \
           file://actrec-tegra-udrm-modprobe.conf \
           "

COMPATIBLE_MACHINE = "(tegra)"
PACKAGE_ARCH = "${MACHINE_ARCH}"

do_install() {
    install -D -m 0644 ${WORKDIR}/actrec-tegra-udrm-modprobe.conf ${D}${sysconfdir}/modprobe.d/actrec-tegra-udrm.conf
    install -D -m 0644 ${WORKDIR}/actrec-tegra-udrm-load.conf ${D}${sysconfdir}/modules-load.d/actrec-tegra-udrm.conf
}

RRECOMMENDS:${PN} = "kernel-module-tegra-udrm"
