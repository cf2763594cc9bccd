# ACTREC_DISPLAY = "weston": Weston's config for the station, kiosk-shell
# with the panel (actrec-panel.service, a Wayland client) as its one window.
FILESEXTRAPATHS:prepend:actrec-distro := "${THISDIR}/${BPN}:"

SRC_URI:append:actrec-distro = " file://actrec-kiosk.ini"

do_install:append:actrec-distro() {
    if [ "${ACTREC_DISPLAY}" = "weston" ]; then
        install -m 0644 ${WORKDIR}/actrec-kiosk.ini ${D}${sysconfdir}/xdg/weston/weston.ini
    fi
}
