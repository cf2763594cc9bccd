SUMMARY = "actrec station: the operator panel and what it draws with"
DESCRIPTION = "ACTREC_DISPLAY = kms: the panel on DRM/KMS (or fbdev) through \
               Slint linuxkms, no window manager. ACTREC_DISPLAY = weston: \
               Weston with kiosk-shell and the panel as its one client."
LICENSE = "MIT"

# The kms set names a kernel module of this machine.
PACKAGE_ARCH = "${MACHINE_ARCH}"

inherit packagegroup

# Any other value stops the build here, with this reason.
SKIP_RECIPE[packagegroup-actrec-display] = "${@'' if d.getVar('ACTREC_DISPLAY') in ('kms', 'weston') \
                                              else 'ACTREC_DISPLAY must be kms or weston'}"

# The panel's kms build is Slint's backend-linuxkms-noseat with the software
# renderer: it links libinput, libudev, libxkbcommon and fontconfig and draws
# into DRM dumb buffers, falling back to /dev/fb0. So neither seatd/libseat
# (noseat) nor GBM/EGL (no GL renderer) is needed; Slint's femtovg or skia
# renderers would want them. actrec-kms-conf loads tegra-udrm, modeset=1.
ACTREC_DISPLAY_KMS = "actrec-kms-conf \
                      fontconfig \
                      libinput \
                      libxkbcommon \
                      ttf-dejavu-sans \
                      ttf-dejavu-sans-mono \
                      xkeyboard-config \
                      "

# Weston (meta-tegra's build, GBM through tegra-udrm-gbm) with kiosk-shell,
# configured by this layer's weston-init append.
ACTREC_DISPLAY_WESTON = "fontconfig \
                         ttf-dejavu-sans \
                         ttf-dejavu-sans-mono \
                         weston \
                         weston-init \
                         xkeyboard-config \
                         "

ACTREC_DISPLAY_SET = "${@oe.utils.conditional('ACTREC_DISPLAY', 'weston', '${ACTREC_DISPLAY_WESTON}', '${ACTREC_DISPLAY_KMS}', d)}"
RDEPENDS:${PN} = "${ACTREC_DISPLAY_SET} actrec-panel"
