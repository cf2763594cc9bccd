SUMMARY = "actrec: assembly-line quality station (engine, operator panel, config)"
DESCRIPTION = "The station engine (camera, action recognition, sequence check, \
               tower light and reject relay, audit log), the Slint operator \
               panel, their systemd units and the station's config and demo model."
HOMEPAGE = "https://example.invalid/actrec"
# The binaries link their crates statically; Cargo.lock names them all (MIT,
# Apache-2.0, BSD, ISC, Zlib, Unicode). The panel links Slint, used here under
# GPL-3.0-only (as tools/build-deb states) unless a Slint licence is bought.
LICENSE = "Apache-2.0 & GPL-3.0-only"
LICENSE:${PN} = "Apache-2.0"
LICENSE:${PN}-config = "Apache-2.0"
LICENSE:${PN}-panel = "Apache-2.0 & GPL-3.0-only"
# The workspace's licence text, then the text Slint is used under.
LIC_FILES_CHKSUM = "file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://${COMMON_LICENSE_DIR}/GPL-3.0-only;md5=c79ff39f19dfec6d293b95dea7b07891"

require actrec-source.inc

# Linked: GStreamer (engine); fontconfig and, per ACTREC_DISPLAY, libinput,
# libudev and libxkbcommon (kms) or libwayland-client (weston) for the panel.
DEPENDS += "fontconfig gstreamer1.0 gstreamer1.0-plugins-base gstreamer1.0-rtsp-server \
            ${@oe.utils.conditional('ACTREC_DISPLAY', 'weston', 'wayland', 'libinput libxkbcommon udev', d)}"

# The crates, vendored by tools/vendor-crates (cargo vendor --locked) into
# ACTREC_VENDOR_DIR, so that no task needs the network: do_compile runs
# cargo --frozen against them.
ACTREC_VENDOR_DIR ?= "${ACTREC_SRC_DIR}/target/yocto"
# Without it: skipped with this reason, instead of a fetch error at parse.
SKIP_RECIPE[actrec] = "${@'' if os.path.isfile(d.getVar('ACTREC_VENDOR_DIR') + '/actrec-crates.tar.xz') \
                        else 'no ${ACTREC_VENDOR_DIR}/actrec-crates.tar.xz: run tools/vendor-crates'}"
SRC_URI = "file://${ACTREC_VENDOR_DIR}/actrec-crates.tar.xz \
           file://actrec-cargo-config.toml \
           file://actrec-panel-weston.conf \
           "

inherit cargo_bin systemd useradd

# Both binaries in one cargo run over the workspace. The panel gets only the
# backend ACTREC_DISPLAY uses (its default is both): "kms" is Slint
# linuxkms-noseat (DRM/KMS or fbdev, libinput); "weston" is winit, a Wayland
# client (winit's X11 half is opened with dlopen and stays unused: no X11).
EXTRA_CARGO_FLAGS = "--frozen --package actrec --package actrec-panel --no-default-features"
CARGO_FEATURES = "${@oe.utils.conditional('ACTREC_DISPLAY', 'weston', 'actrec-panel/winit', 'actrec-panel/kms', d)} \
                  ${ACTREC_GPU_FEATURES}"

# The GPU path. The `tensorrt` inference backend is always built: it opens
# the shim (actrec-trt-shim, libactrec_trt.so.2) at run time and falls back
# to the CPU without it, so "tensorrt" only adds the shim and TensorRT, on
# Tegra machines by default. "cuda" builds actrec-preprocess's CUDA kernels
# for JetPack 5's CUDA 11.4 (cudarc opens libcuda and NVRTC at run time);
# the engine does not use them yet (docs/GPU.md).
PACKAGECONFIG ??= "${@'tensorrt' if 'tegra' in (d.getVar('MACHINEOVERRIDES') or '').split(':') else ''}"
PACKAGECONFIG[tensorrt] = ",,,actrec-trt-shim tensorrt-core"
PACKAGECONFIG[cuda] = ",,,cuda-cudart cuda-nvrtc"
ACTREC_GPU_FEATURES = "${@bb.utils.contains('PACKAGECONFIG', 'cuda', 'actrec-preprocess/cuda-11040', '', d)}"

# A site's own station.toml (sources, GPIO lines, PIN hash) replaces the
# repository's demo config here, e.g. from a bbappend in the site's layer.
ACTREC_STATION_TOML ?= "${S}/config/station.toml"

do_configure:append() {
    # A tarball from another Cargo.lock would fail later with a cargo error
    # about a missing crate; say what to do instead.
    want=$(sha256sum ${S}/Cargo.lock | cut -d' ' -f1)
    have=$(cat ${WORKDIR}/actrec-crates/Cargo.lock.sha256)
    if [ "$want" != "$have" ]; then
        bbfatal "actrec-crates.tar.xz does not match ${S}/Cargo.lock: run tools/vendor-crates"
    fi
    sed -e 's,@VENDOR_DIR@,${WORKDIR}/actrec-crates/vendor,' \
        ${WORKDIR}/actrec-cargo-config.toml >${CARGO_HOME}/config.toml
}

do_install:append() {
    # systemd/ is the one source of the units (tools/build-deb installs the
    # same files to the same places).
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/systemd/actrec.service ${S}/systemd/actrec-engine-build.service \
        ${S}/systemd/actrec-export@.service ${S}/systemd/actrec-panel.service \
        ${D}${systemd_system_unitdir}/
    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${S}/systemd/60-actrec-gpio.rules ${S}/systemd/90-actrec-usb.rules \
        ${D}${nonarch_base_libdir}/udev/rules.d/
    install -D -m 0644 ${S}/systemd/actrec.sysusers ${D}${nonarch_libdir}/sysusers.d/actrec.conf
    install -D -m 0644 ${S}/systemd/actrec.tmpfiles ${D}${nonarch_libdir}/tmpfiles.d/actrec.conf
    install -D -m 0644 ${S}/systemd/journald-actrec.conf ${D}${systemd_unitdir}/journald.conf.d/actrec.conf
    install -D -m 0644 ${S}/systemd/watchdog.conf ${D}${systemd_unitdir}/system.conf.d/actrec-watchdog.conf
    install -d ${D}${libexecdir}/actrec
    install -m 0755 ${S}/systemd/engine-stamp ${S}/systemd/usb-export ${D}${libexecdir}/actrec/
    if [ "${ACTREC_DISPLAY}" = "weston" ]; then
        install -D -m 0644 ${WORKDIR}/actrec-panel-weston.conf \
            ${D}${systemd_system_unitdir}/actrec-panel.service.d/weston.conf
    fi

    # The mount point of the data partition: / is read-only, see base-files.
    install -d -m 0755 ${D}${localstatedir}/lib/actrec

    # Config and model. station.toml holds the supervisor PIN's hash: root
    # writes it, the engine's group reads it. models/ is a link, so that the
    # relative [model] dir = "models/demo" works as in the repository.
    install -d ${D}${sysconfdir}/actrec/sequences ${D}${sysconfdir}/actrec/gpio \
        ${D}${datadir}/actrec/models/demo
    install -m 0640 ${ACTREC_STATION_TOML} ${D}${sysconfdir}/actrec/station.toml
    chgrp actrec ${D}${sysconfdir}/actrec/station.toml
    install -m 0644 ${S}/config/sequences/*.toml ${D}${sysconfdir}/actrec/sequences/
    install -m 0644 ${S}/config/gpio/*.toml ${D}${sysconfdir}/actrec/gpio/
    install -m 0644 ${S}/config/models/demo/* ${D}${datadir}/actrec/models/demo/
    ln -s ${datadir}/actrec/models ${D}${sysconfdir}/actrec/models

    install -d ${D}${docdir}/actrec
    install -m 0644 ${S}/README.md ${S}/docs/*.md ${D}${docdir}/actrec/
    install -m 0644 ${S}/systemd/README.md ${D}${docdir}/actrec/README.systemd.md
}

PACKAGE_BEFORE_PN = "${PN}-panel ${PN}-config"
FILES:${PN}-panel += "${bindir}/actrec-panel \
                      ${systemd_system_unitdir}/actrec-panel.service \
                      ${systemd_system_unitdir}/actrec-panel.service.d \
                      "
FILES:${PN}-config += "${sysconfdir}/actrec ${datadir}/actrec"
FILES:${PN} += "${systemd_system_unitdir} \
                ${nonarch_base_libdir}/udev/rules.d \
                ${nonarch_libdir}/sysusers.d \
                ${nonarch_libdir}/tmpfiles.d \
                ${systemd_unitdir}/journald.conf.d \
                ${systemd_unitdir}/system.conf.d \
                "
CONFFILES:${PN}-config = "${sysconfdir}/actrec/station.toml"

SYSTEMD_PACKAGES = "${PN} ${PN}-panel"
# actrec.service pulls in actrec-engine-build.service (Wants=); the export
# template is started by 90-actrec-usb.rules.
SYSTEMD_SERVICE:${PN} = "actrec.service"
SYSTEMD_SERVICE:${PN}-panel = "actrec-panel.service"

# Users at build time, with fixed IDs: the rootfs is read-only (sysusers
# cannot write /etc/passwd at boot), files on the data partition must keep
# their owner across updates, and scarthgap only checks sysusers.d against
# /etc/passwd. Same names and groups as systemd/actrec.sysusers.
USERADD_PACKAGES = "${PN} ${PN}-panel ${PN}-config"
GROUPADD_PARAM:${PN} = "--system --gid 850 actrec; --system --gid 851 gpio"
USERADD_PARAM:${PN} = "--system --uid 850 --gid actrec --groups gpio,video \
                       --home-dir /nonexistent --no-create-home --shell /sbin/nologin actrec"
GROUPADD_PARAM:${PN}-panel = "--system --gid 850 actrec; --system --gid 852 actrec-panel; --system render"
USERADD_PARAM:${PN}-panel = "--system --uid 852 --gid actrec-panel --groups actrec,video,input,render \
                             --home-dir /nonexistent --no-create-home --shell /sbin/nologin actrec-panel"
GROUPADD_PARAM:${PN}-config = "--system --gid 850 actrec"

# engine-stamp and usb-export are bash scripts using GNU and util-linux
# tools; e2fsprogs formats, checks and grows the data partition (fstab).
RDEPENDS:${PN} += "${PN}-config bash coreutils e2fsprogs-e2fsck e2fsprogs-mke2fs e2fsprogs-resize2fs \
                   findutils util-linux-blkid util-linux-lsblk util-linux-mount util-linux-mountpoint \
                   util-linux-setpriv util-linux-umount"
# Keymaps for libxkbcommon, and a font: Slint finds fonts through fontconfig.
# In the weston variant winit opens libxkbcommon with dlopen, and the panel
# joins weston-init's group wayland for its socket.
ACTREC_PANEL_WESTON_RDEPENDS = "${@oe.utils.conditional('ACTREC_DISPLAY', 'weston', 'libxkbcommon weston-init', '', d)}"
RDEPENDS:${PN}-panel += "${ACTREC_PANEL_WESTON_RDEPENDS} fontconfig ttf-dejavu-sans xkeyboard-config"
