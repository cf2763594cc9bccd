#!/usr/bin/env python3
"""The virtual station: the station's .deb on Debian 12 in QEMU (TCG, no KVM
needed), with a virtio-gpu screen for the panel (Slint linuxkms), a USB stick
plugged in and out over QMP, and an H.264 camera over RTP/UDP fed from the
host with a generated clip.

    station.py run  WORK   # boot it and feed the camera until Ctrl-C (make station)
    station.py test WORK   # boot it and check it as an appliance (make station-test)

WORK holds station.img, vmlinuz and initrd.img (tools/station/build-image)
and the clip (actrec-lab synth). The disk is never written: each boot gets a
fresh overlay, so every test starts from the image as flashed.

The guest is driven through the QEMU guest agent (commands, files) and QMP
(screen, USB). Python's standard library only.
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CAMERA_PORT = 5000  # [sources.line_camera.rtp] port in config/station.toml


def free_udp_port():
    """A host port for the camera's forward, so that two stations (a test
    and make test's smoke run) can run side by side."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
# The panel's status indicator (app/panel/ui/theme.slint), as in the panel's system test.
INDICATOR_COLOURS = {
    "inspecting": (0x1F, 0x5F, 0xBF),
    "pass": (0x12, 0xA1, 0x50),
    "warning": (0xF5, 0xA3, 0x00),
    "reject": (0xE0, 0x28, 0x1B),
    "no video": (0x4A, 0x55, 0x66),
    "fault": (0x8E, 0x44, 0xD6),
}


def log(message):
    print(f"station: {message}", flush=True)


class Failed(Exception):
    pass


class Qmp:
    """QEMU's machine protocol: screen dumps and USB hot-plug."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rw")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        while True:
            line = self.file.readline()
            if not line:
                raise Failed("QMP: QEMU closed the connection")
            message = json.loads(line)
            if "event" not in message:
                return message

    def execute(self, command, **arguments):
        self.file.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.file.flush()
        reply = self._read()
        if "error" in reply:
            raise Failed(f"QMP {command}: {reply['error']}")
        return reply.get("return")


class Agent:
    """The QEMU guest agent: commands in the guest, as root."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.file = None

    def connect(self, timeout):
        """Waits until the agent in the guest answers. Requests sent before it
        ran are answered late, on whatever connection is open then: replies
        are read until the one with this attempt's token."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            token = 1000 + attempt
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.settimeout(3)
                self.sock.connect(str(self.path))
                self.sock.sendall(b"\xff" + json.dumps(
                    {"execute": "guest-sync-delimited", "arguments": {"id": token}}).encode() + b"\n")
                buffer = b""
                while True:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        raise OSError("closed")
                    buffer += chunk
                    replies = [part.split(b"\n")[0] for part in buffer.split(b"\xff")[1:] if b"\n" in part]
                    if any(json.loads(reply).get("return") == token for reply in replies):
                        self.sock.settimeout(30)
                        self.file = self.sock.makefile("rw")
                        return
            except (OSError, ValueError):
                pass
            self.sock.close()
            time.sleep(2)
        raise Failed(f"the guest agent did not answer within {timeout} s")

    def _call(self, command, **arguments):
        if self.file is None:
            raise Failed("the guest agent is not connected")
        self.file.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.file.flush()
        reply = json.loads(self.file.readline())
        if "error" in reply:
            raise Failed(f"guest agent {command}: {reply['error']}")
        return reply["return"]

    def sh(self, command, check=True, timeout=120):
        """Runs `sh -c command` in the guest; returns its stdout."""
        pid = self._call("guest-exec", path="/bin/sh", arg=["-c", command], **{"capture-output": True})["pid"]
        deadline = time.monotonic() + timeout
        while True:
            status = self._call("guest-exec-status", pid=pid)
            if status["exited"]:
                break
            if time.monotonic() > deadline:
                raise Failed(f"guest: `{command}` did not finish within {timeout} s")
            time.sleep(0.2)
        out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
        err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
        if check and status.get("exitcode") != 0:
            raise Failed(f"guest: `{command}` exited {status.get('exitcode')}: {err.strip() or out.strip()}")
        return out


def wait_until(what, timeout, probe, every=2.0):
    """Calls probe() until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failed(f"{what}: not within {timeout} s")
        time.sleep(every)


def read_ppm(path):
    data = Path(path).read_bytes()
    fields, position = [], 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[position + 1:]


def indicator_on_screen(ppm):
    """The indicator colour covering the most pixels, if any covers a block of the screen."""
    width, height, pixels = read_ppm(ppm)
    counts = dict.fromkeys(INDICATOR_COLOURS, 0)
    # Every 4th pixel of every 4th row: enough for a block many pixels wide.
    for y in range(0, height, 4):
        row = pixels[y * width * 3:(y + 1) * width * 3]
        for x in range(0, width * 3, 12):
            r, g, b = row[x], row[x + 1], row[x + 2]
            for name, (cr, cg, cb) in INDICATOR_COLOURS.items():
                if abs(r - cr) <= 6 and abs(g - cg) <= 6 and abs(b - cb) <= 6:
                    counts[name] += 1
    name, count = max(counts.items(), key=lambda item: item[1])
    # 300 samples = 4800 pixels: the indicator, not a stray icon.
    return name if count > 300 else None


class Station:
    """One boot of the virtual station."""

    def __init__(self, work, accel, display):
        self.work = Path(work).resolve()
        self.run_dir = self.work / "run"
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)
        self.accel = accel
        self.display = display
        self.qemu = None
        self.camera = None
        self.camera_port = free_udp_port()

    def boot(self):
        overlay = self.run_dir / "disk.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                        "-b", str(self.work / "station.img"), str(overlay)], check=True)
        stick = self.run_dir / "stick.img"
        # A stick without a partition table, FAT32, as many are sold.
        subprocess.run(["mkfs.vfat", "-F", "32", "-n", "STICK", "-C", str(stick), str(96 * 1024)],
                       check=True, stdout=subprocess.DEVNULL)
        self.stick = stick
        command = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", self.accel,
            # No AVX: under TCG emulated AVX kernels (tract, libav) are far slower
            # than SSE ones. The same model under KVM: `host` trips over MSRs
            # when this machine is itself a VM.
            "-cpu", "qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt",
            "-smp", "2", "-m", "2048",
            "-kernel", str(self.work / "vmlinuz"), "-initrd", str(self.work / "initrd.img"),
            "-append", "root=LABEL=station-root rw console=ttyS0 quiet",
            "-drive", f"file={overlay},if=virtio,format=qcow2",
            "-vga", "none", "-device", "virtio-gpu-pci,xres=1280,yres=800",
            "-device", "virtio-keyboard-pci", "-device", "virtio-tablet-pci",
            "-netdev", f"user,id=net0,hostfwd=udp:127.0.0.1:{self.camera_port}-:{CAMERA_PORT}",
            "-device", "virtio-net-pci,netdev=net0",
            "-device", "qemu-xhci,id=xhci",
            "-drive", f"if=none,id=stick,format=raw,file={stick}",
            "-qmp", f"unix:{self.run_dir / 'qmp.sock'},server=on,wait=off",
            "-chardev", f"socket,id=qga,path={self.run_dir / 'qga.sock'},server=on,wait=off",
            "-device", "virtio-serial", "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
            "-serial", f"file:{self.run_dir / 'console.log'}",
            "-display", self.display,
        ]
        log(f"booting ({self.accel}): {' '.join(command)}")
        self.started = time.monotonic()
        self.qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        wait_until("QEMU's QMP socket", 30, lambda: (self.run_dir / "qmp.sock").exists(), every=0.1)
        self.qmp = Qmp(self.run_dir / "qmp.sock")
        self.agent = Agent(self.run_dir / "qga.sock")

    def feed_camera(self, clip):
        """The clip over RTP/UDP to the guest's camera port at camera speed
        (30 fps), again and again."""
        pipeline = (f"filesrc location={clip} ! qtdemux ! h264parse config-interval=-1 ! "
                    f"rtph264pay pt=96 config-interval=1 ! udpsink host=127.0.0.1 port={self.camera_port} sync=true")
        script = f"while true; do gst-launch-1.0 -q {pipeline} || sleep 1; done"
        self.camera = subprocess.Popen(["bash", "-c", script], stdout=subprocess.DEVNULL,
                                       start_new_session=True)

    def screen(self, name):
        """The screen as PPM (for checking) and PNG (to keep)."""
        ppm = self.run_dir / f"{name}.ppm"
        png = self.work / f"{name}.png"
        self.qmp.execute("screendump", filename=str(ppm))
        self.qmp.execute("screendump", filename=str(png), format="png")
        return ppm, png

    def stop(self):
        if self.camera:
            os.killpg(self.camera.pid, signal.SIGTERM)
            self.camera.wait()
        if self.qemu and self.qemu.poll() is None:
            self.qemu.terminate()
            try:
                self.qemu.wait(10)
            except subprocess.TimeoutExpired:
                self.qemu.kill()


def main_pid(agent, unit):
    return int(agent.sh(f"systemctl show -p MainPID --value {unit}").strip() or 0)


def active(agent, unit):
    return agent.sh(f"systemctl is-active {unit}", check=False).strip() == "active"


def engine_status(agent):
    return json.loads(agent.sh("actrec ctl status"))


def sql(agent, query):
    return agent.sh(f"sqlite3 /var/lib/actrec/audit.sqlite \"{query}\"").strip()


def judge_a_part(station, work, results, timeout):
    """The file source's part judged and in the audit log; its verdict beside the clip's truth."""
    agent = station.agent
    agent.sh("actrec ctl switch-source assembly_clip")
    judging = time.monotonic()
    wait_until("a part judged and in the audit log", timeout,
               lambda: int(sql(agent, "SELECT count(*) FROM parts")) >= 1, every=10)
    results["part_judged_after_s"] = round(time.monotonic() - judging)
    results["parts"] = sql(agent, "SELECT group_concat(part || ':' || verdict, ' ') FROM parts")
    truth = json.loads((work / "clip" / "truth.json").read_text())
    results["parts_expected"] = " ".join(f"{p['part']}:{p['expected']['verdict']}" for p in truth["parts"])
    log(f"parts judged: {results['parts']} (the clip's truth: {results['parts_expected']}) "
        f"in {results['part_judged_after_s']} s")
    ppm, _ = station.screen("station-panel")
    results["indicator_after_part"] = indicator_on_screen(ppm)


def test(args):
    work = Path(args.work).resolve()
    station = Station(work, args.accel, "none")
    results = {}
    try:
        station.boot()
        agent = station.agent
        agent.connect(timeout=600)
        log(f"guest agent up after {time.monotonic() - station.started:.0f} s")

        # The engine reaches READY under systemd (Type=notify: active means READY=1 arrived).
        wait_until("actrec.service active (READY)", 300, lambda: active(agent, "actrec.service"))
        results["engine_ready_s"] = round(time.monotonic() - station.started, 1)
        log(f"engine READY after {results['engine_ready_s']} s")

        # The panel on screen: the status indicator in one of its colours.
        def panel_shown():
            ppm, _ = station.screen("station-panel")
            return indicator_on_screen(ppm)
        shown = wait_until("the panel's status indicator on screen", 300, panel_shown)
        results["panel_on_screen_s"] = round(time.monotonic() - station.started, 1)
        log(f"panel on screen after {results['panel_on_screen_s']} s (indicator: {shown})")

        # The clip shows the short sequence: selected before a part can open.
        agent.sh("actrec ctl select-sequence gear-housing-short")
        # Parts judged, in the audit database: the clip from the file source
        # the image adds, read at the model's pace (every window inferred).
        # The smoke test leaves this out: it takes 16 minutes or more.
        if not args.smoke:
            judge_a_part(station, work, results, args.part_timeout)

        # The camera: frames over RTP reach the engine. Emulation keeps a few
        # of them a second, too few for the model's one-second windows: the
        # engine leaves those windows out and raises `model_behind`.
        if engine_status(agent)["source"] != "line_camera":
            agent.sh("actrec ctl switch-source line_camera")
        station.feed_camera(work / "clip" / "clip.mp4")

        def camera_frames():
            status = engine_status(agent)
            seen = status["source"] == "line_camera" and "no_video" not in status["faults"] and status["fps"] > 0
            return status if seen else None
        camera = wait_until("frames from the RTP camera reaching the model", 120, camera_frames)
        results["camera_fps_under_emulation"] = round(camera["fps"], 1)
        results["faults_on_camera"] = camera["faults"]
        log(f"RTP camera: {camera['fps']:.1f} frames/s reach the model; faults: {camera['faults']}")

        # The USB stick: plugged in, exported to by the units, unplugged, checked on the host.
        station.qmp.execute("device_add", driver="usb-storage", id="stickdev", drive="stick", bus="xhci.0")
        unit = wait_until("actrec-export@ started for the stick", 120,
                          lambda: agent.sh("systemctl list-units --all --plain --no-legend 'actrec-export@*' "
                                           "| awk '{print $1}'", check=False).strip(), every=1)
        log(f"stick plugged in: {unit}")
        wait_until(f"{unit} finished", 600,
                   lambda: agent.sh(f"systemctl show -p ActiveState --value {unit}").strip()
                   in ("inactive", "failed"), every=2)
        result = agent.sh(f"systemctl show -p Result --value {unit}").strip()
        if result != "success":
            raise Failed(f"{unit}: {result}:\n" + agent.sh(f"journalctl -b -u {unit} --no-pager", check=False))
        station.qmp.execute("device_del", id="stickdev")
        time.sleep(2)
        exported = station.run_dir / "exported"
        subprocess.run(["mcopy", "-s", "-n", "-i", str(station.stick), "::/", str(exported)], check=True)
        folders = sorted(exported.glob("actrec-*"))
        if len(folders) != 1:
            raise Failed(f"the stick holds {len(folders)} export folders: {list(exported.iterdir())}")
        verify = subprocess.run([args.actrec, "verify-export", str(folders[0])], capture_output=True, text=True)
        if verify.returncode != 0:
            raise Failed(f"verify-export {folders[0].name}: {verify.stderr}")
        results["export"] = folders[0].name
        log(f"export on the stick verifies: {folders[0].name}")

        # kill -9 of the engine: systemd restarts it, and the outage is an audited fault.
        before = main_pid(agent, "actrec.service")
        agent.sh(f"kill -9 {before}")
        wait_until("the engine restarted", 300,
                   lambda: main_pid(agent, "actrec.service") not in (0, before) and active(agent, "actrec.service"))
        outages = wait_until("the outage in the audit log", 60, lambda: int(sql(
            agent, "SELECT count(*) FROM faults WHERE fault = 'engine_outage' AND state = 'raised'")))
        results["engine_outage_faults"] = outages
        log(f"engine killed with SIGKILL, restarted by systemd; outage faults: {outages}")

        # kill -9 of the panel: it comes back, on screen.
        before = main_pid(agent, "actrec-panel.service")
        agent.sh(f"kill -9 {before}")
        wait_until("the panel restarted", 120,
                   lambda: main_pid(agent, "actrec-panel.service") not in (0, before))
        wait_until("the panel back on screen", 120, panel_shown)
        log("panel killed with SIGKILL, back on screen")

        results["systemd_analyze"] = agent.sh("systemd-analyze time", check=False).strip().splitlines()[0]
        print(json.dumps(results, indent=2))
        (work / "station-test.json").write_text(json.dumps(results, indent=2) + "\n")
        log("all checks passed")
        return 0
    except Failed as failure:
        log(f"FAILED: {failure}")
        try:
            journal = station.agent.sh(
                "systemctl --no-pager status actrec.service actrec-panel.service; "
                "journalctl -b --no-pager -u actrec-panel.service -n 60; journalctl -b --no-pager -n 300",
                check=False, timeout=30)
            (work / "journal.txt").write_text(journal)
            log(f"guest journal: {work / 'journal.txt'}; console: {station.run_dir / 'console.log'}")
        except Exception as err:  # the guest may be gone: say so, keep the first failure
            log(f"no guest journal: {err}")
        return 1
    finally:
        station.stop()


def run(args):
    display = "gtk" if os.environ.get("DISPLAY") else "vnc=127.0.0.1:0"
    station = Station(args.work, args.accel, display)
    try:
        station.boot()
        station.feed_camera(Path(args.work).resolve() / "clip" / "clip.mp4")
        if display.startswith("vnc"):
            log("no DISPLAY: the screen is on VNC at 127.0.0.1:5900")
        log("camera feeding; Ctrl-C stops the station")
        station.qemu.wait()
    except KeyboardInterrupt:
        pass
    finally:
        station.stop()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "test"])
    parser.add_argument("work", help="folder with station.img, vmlinuz, initrd.img and clip/")
    parser.add_argument("--accel", default=os.environ.get("ACTREC_STATION_ACCEL", "tcg"),
                        help="tcg (default: software emulation, no KVM needed) or kvm")
    parser.add_argument("--actrec", default="actrec", help="the host's actrec, for verify-export")
    parser.add_argument("--smoke", action="store_true",
                        help="every check but judging a part (make test's version)")
    parser.add_argument("--part-timeout", type=int, default=2400,
                        help="seconds to wait for the first judged part")
    args = parser.parse_args()
    return test(args) if args.mode == "test" else run(args)


if __name__ == "__main__":
    sys.exit(main())
