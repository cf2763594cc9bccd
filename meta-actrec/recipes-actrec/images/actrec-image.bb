SUMMARY = "actrec quality station: boots into the engine and the operator panel"
DESCRIPTION = "Read-only root with the station engine, its config and model, \
               the operator panel (ACTREC_DISPLAY) and a writable DATA \
               partition on /var/lib/actrec."
LICENSE = "MIT"

inherit core-image

# Read-only root: what the station writes (audit log, TensorRT engines,
# recordings) goes to the DATA partition on /var/lib/actrec (base-files
# append, releases/*/tegra-* appends); the rest of /var/lib is volatile.
IMAGE_FEATURES += "read-only-rootfs"

IMAGE_INSTALL = "packagegroup-core-boot \
                 packagegroup-actrec \
                 packagegroup-actrec-display \
                 ${CORE_IMAGE_EXTRA_INSTALL} \
                 "
IMAGE_LINGUAS = ""

# The panel unit is WantedBy=graphical.target, in both display variants.
SYSTEMD_DEFAULT_TARGET = "graphical.target"
