#!/usr/bin/env python3
"""Give a Tegra flash layout (NVIDIA partition XML) a DATA partition.

Run by meta-actrec's appends to tegra-bootfiles (L4T R32) and
tegra-storage-layout (L4T R35) on the layout meta-tegra installs, in place.
On the device that holds APP (the root filesystem):

- a partition named NAME exists already: nothing to do;
- the partition that fills the rest of the device (allocation_attribute
  0x800) is UDA, NVIDIA's spare "user data area": it is renamed NAME, so
  the data partition takes its place and no number or offset moves;
- no partition fills the device: NAME is appended as its last partition
  (before the secondary GPT), at least --min-size and growing to the end;
- another partition fills the device: an error, the layout needs a hand.

Only the standard library, like meta-tegra's nvflashxmlparse.
"""
import argparse
import sys
import xml.etree.ElementTree as ET

SECONDARY_GPT_TYPES = ("secondary_gpt", "GPT")
FILL_TO_END = 0x800


def alloc_attr(part):
    node = part.find("allocation_attribute")
    text = (node.text or "").strip() if node is not None else ""
    # Always hexadecimal in these files, with or without 0x.
    return int(text, 16) if text else 0


def child(parent, tag, text, indent):
    node = ET.SubElement(parent, tag)
    node.text = " %s " % text
    node.tail = indent
    return node


def new_partition(name, part_id, min_size, outer):
    """A partition element; `outer` is the whitespace before a partition."""
    inner = outer + "    "
    attrs = {"name": name, "type": "data"}
    if part_id is not None:
        attrs["id"] = str(part_id)
    part = ET.Element("partition", attrs)
    part.text = inner
    child(part, "allocation_policy", "sequential", inner)
    child(part, "filesystem_type", "basic", inner)
    child(part, "size", str(min_size), inner)
    child(part, "file_system_attribute", "0", inner)
    child(part, "allocation_attribute", "0x808", inner)
    child(part, "percent_reserved", "0", inner)
    last = child(part, "description",
                 "actrec data: audit log, TensorRT engines, recordings (/var/lib/actrec)", inner)
    last.tail = outer
    part.tail = outer
    return part


def add_data_partition(root, name, min_size):
    """Changes `root` in place; returns what it did, for the log."""
    for part in root.iter("partition"):
        if part.get("name") == name:
            return "partition %s exists already" % name
    device = None
    for dev in root.iter("device"):
        if any(p.get("name") == "APP" for p in dev.findall("partition")):
            device = dev
            break
    if device is None:
        raise ValueError("no device holds an APP partition")
    parts = device.findall("partition")
    data_parts = [p for p in parts if p.get("type") not in SECONDARY_GPT_TYPES]
    fillers = [p for p in data_parts if alloc_attr(p) & FILL_TO_END]
    if fillers:
        filler = fillers[-1]
        if filler.get("name") != "UDA":
            raise ValueError("partition %s already fills device %s: edit the layout by hand"
                             % (filler.get("name"), device.get("type")))
        filler.set("name", name)
        return "renamed UDA (fills device %s) to %s" % (device.get("type"), name)
    ids = [int(p.get("id")) for p in data_parts if p.get("id", "").strip().isdigit()]
    part_id = max(ids) + 1 if ids else None
    last = data_parts[-1]
    indent = device.text if device.text and not device.text.strip() else "\n        "
    part = new_partition(name, part_id, min_size, indent)
    # After the old last partition: the new one takes over its tail (the
    # whitespace before what follows), the old one gets a partition's indent.
    part.tail, last.tail = last.tail, indent
    device.insert(list(device).index(last) + 1, part)
    return "appended %s (id %s, at least %d bytes, to the end of device %s)" % (
        name, part_id, min_size, device.get("type"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layout", help="the partition XML, changed in place")
    parser.add_argument("--name", default="DATA", help="partition name (GPT label); default DATA")
    parser.add_argument("--min-size", type=int, default=1 << 30,
                        help="smallest size in bytes when appended; default 1 GiB")
    args = parser.parse_args()

    tree = ET.parse(args.layout, ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    try:
        what = add_data_partition(tree.getroot(), args.name, args.min_size)
    except ValueError as err:
        sys.exit("actrec-data-partition: %s: %s" % (args.layout, err))
    with open(args.layout, "w") as out:
        tree.write(out, encoding="unicode", xml_declaration=True)
        out.write("\n")
    print("actrec-data-partition: %s: %s" % (args.layout, what))


if __name__ == "__main__":
    main()
