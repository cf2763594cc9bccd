# L4T R35 (Xavier): the DATA partition (/var/lib/actrec) in the internal
# flash layout, A/B or not (internal-flash.xml), that doflash.sh and
# initrd-flash use. The script runs from the layer, as on R32;
# file-checksums ties the task to its content.
do_install[file-checksums] += "${ACTREC_LAYERDIR}/files/flash-layout/actrec-data-partition.py:True"

do_install:append:actrec-distro() {
    if [ "${ACTREC_DATA_PARTITION}" = "1" ]; then
        python3 ${ACTREC_LAYERDIR}/files/flash-layout/actrec-data-partition.py \
            --min-size ${ACTREC_DATA_MIN_SIZE} ${D}${datadir}/tegraflash/internal-flash.xml
    fi
}
