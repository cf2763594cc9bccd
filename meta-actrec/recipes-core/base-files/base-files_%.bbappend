# The DATA partition on /var/lib/actrec, for the actrec distro only
# (override actrec-distro, see conf/distro/actrec.conf).
FILESEXTRAPATHS:prepend:actrec-distro := "${THISDIR}/${BPN}:"

SRC_URI:append:actrec-distro = " file://actrec-data.fstab"

do_install:append:actrec-distro() {
    if [ "${ACTREC_DATA_PARTITION}" = "1" ]; then
        cat ${WORKDIR}/actrec-data.fstab >>${D}${sysconfdir}/fstab
    fi
}
