# L4T R32 (Nano): the DATA partition (/var/lib/actrec) in the flash layout
# that tegra-bootfiles installs as ${PARTITION_LAYOUT_TEMPLATE}; the
# tegraflash package (doflash.sh, dosdcard.sh) takes it from there.
# tegra-bootfiles has no unpack task (it shares the L4T tree), so the script
# runs from the layer; file-checksums ties the task to its content.
do_install[file-checksums] += "${ACTREC_LAYERDIR}/files/flash-layout/actrec-data-partition.py:True"

do_install:append:actrec-distro() {
    if [ "${ACTREC_DATA_PARTITION}" = "1" ]; then
        python3 ${ACTREC_LAYERDIR}/files/flash-layout/actrec-data-partition.py \
            --min-size ${ACTREC_DATA_MIN_SIZE} ${D}${datadir}/tegraflash/${PARTITION_LAYOUT_TEMPLATE}
    fi
}
