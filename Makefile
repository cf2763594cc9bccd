# actrec: the two set-up commands are `make demo` and `make test`.
# Each target installs what is missing on Debian/Ubuntu, then builds and runs.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
# One release build serves tests, tools and the demo (inference is far slower in debug).
PROFILE := --release
BIN_DIR = $${CARGO_TARGET_DIR:-target}/release
# The binaries as built once (a `cargo run` per step would build again with
# another feature set): the station's `actrec` and the lab's `actrec-lab`.
ACTREC = $(BIN_DIR)/actrec
LAB = $(BIN_DIR)/actrec-lab

# Debian/Ubuntu packages the build and the tests need. Later crates add theirs here.
APT_PACKAGES := build-essential pkg-config \
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev \
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-x \
  xvfb xauth fonts-dejavu-core sqlite3 libfontconfig-dev \
  libinput-dev libxkbcommon-dev libudev-dev \
  lintian python3-venv
# The virtual station's (make station, make station-test) only.
STATION_PACKAGES := mmdebstrap qemu-system-x86 qemu-utils mtools dosfstools e2fsprogs
MIN_RUST := 1.95

# ONNX Runtime for the `onnxruntime` inference backend: the shared library
# inside the onnxruntime wheel on PyPI (x86-64), checked by hash and opened at
# run time; nothing is linked at build time.
ORT_VERSION := 1.32.0
ORT_WHEEL := onnxruntime-$(ORT_VERSION)-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_SHA256 := 5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
ORT_DIR := $(HOME)/.cache/actrec/onnxruntime-$(ORT_VERSION)
export ORT_DYLIB_PATH := $(ORT_DIR)/libonnxruntime.so.$(ORT_VERSION)

.PHONY: trt-shim demo test bench deps station-deps toolchain onnxruntime check fmt screenshots deb deb-package station-image station-disk station station-test station-smoke

# $(call apt_install,PACKAGES): installs those of PACKAGES that are missing.
define apt_install
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || echo "$$p"; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
endef

deps: toolchain onnxruntime
	$(call apt_install,$(APT_PACKAGES))
station-deps: deps
	$(call apt_install,$(STATION_PACKAGES))

onnxruntime: $(ORT_DYLIB_PATH)
$(ORT_DYLIB_PATH):
	@python3 -m pip --version >/dev/null 2>&1 || { \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq python3-pip; }
	mkdir -p $(ORT_DIR)
	python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
	  --platform manylinux_2_28_x86_64 -d $(ORT_DIR) onnxruntime==$(ORT_VERSION)
	echo "$(ORT_SHA256)  $(ORT_DIR)/$(ORT_WHEEL)" | sha256sum -c --quiet
	python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("onnxruntime/capi/libonnxruntime.so.$(ORT_VERSION)"))' \
	  $(ORT_DIR)/$(ORT_WHEEL) $@.part
	mv $@.part $@

toolchain:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust $(MIN_RUST) or newer (rustup)"; exit 1; }
	@have=$$(rustc --version | awk '{print $$2}'); \
	if [ "$$(printf '%s\n%s\n' "$(MIN_RUST)" "$$have" | sort -V | head -1)" != "$(MIN_RUST)" ]; then \
	  echo "rustc $$have is older than $(MIN_RUST): update Rust (rustup update)"; exit 1; \
	fi
	@for c in rustfmt clippy; do \
	  $(CARGO) $${c/rustfmt/fmt} --version >/dev/null 2>&1 || rustup component add $$c; \
	done

# The demo: (1) the step checker on the seed's sequence over example
# prediction files; (2) a generated 1080p clip of the synthetic assembly
# station (two parts, one faulty) through the live engine with the bundled
# model, writing annotated recordings and the clip of the rejected part under
# target/demo/data. `actrec-lab synth` prints the verdicts the parts should get.
DEMO := target/demo
demo: deps
	$(CARGO) build $(PROFILE) -q -p actrec -p actrec-lab -p actrec-panel
	$(ACTREC) check-config config/station.toml
	@echo; echo "== a good assembly, checked against the seed sequence"
	$(ACTREC) check --format text --sequence config/sequences/gear-housing.toml --windows config/demo/good-part.windows.jsonl
	@echo; echo "== a faulty assembly (a greased disk left out, lid pressed before it was installed)"
	$(ACTREC) check --format text --sequence config/sequences/gear-housing.toml --windows config/demo/faulty-part.windows.jsonl
	@echo; echo "== the good assembly, checked against the seed's bad sequence"
	$(ACTREC) check --format text --sequence config/sequences/gear-housing-bad.toml --windows config/demo/good-part.windows.jsonl
	@echo; echo "== generating a 1080p clip of the synthetic station (seed 1, two parts)"
	$(LAB) synth --seed 1 --parts 2 --out $(DEMO)/clip
	rm -rf $(DEMO)/data
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo; echo "== the station on that clip at camera speed, with the operator panel (supervisor PIN 1234)"; \
	  mkdir -p $(DEMO)/data; \
	  target/release/actrec-panel --socket $(DEMO)/data/engine.sock & panel=$$!; \
	  RUST_LOG=error $(ACTREC) run --config config/demo/station.toml --source demo_realtime --exit-on-end --format text; \
	  sleep 3; kill $$panel 2>/dev/null || true; \
	else \
	  echo; echo "== no display (neither DISPLAY nor WAYLAND_DISPLAY is set): the station runs headless, without the panel"; \
	  echo "== the station on that clip: GStreamer, the demo model on the CPU, the sequence checker"; \
	  RUST_LOG=error $(ACTREC) run --config config/demo/station.toml --exit-on-end --format text; \
	fi
	@echo; echo "annotated recordings: $$(ls $(DEMO)/data/video | tr '\n' ' ')"
	@echo "evidence clips:       $$(ls $(DEMO)/data/clips 2>/dev/null | tr '\n' ' ')"
	@echo "tower light and relay (simulated): $$(wc -l < $(DEMO)/data/gpio-sim.jsonl) line changes in $(DEMO)/data/gpio-sim.jsonl"
	@echo "audit log: $(DEMO)/data/audit.sqlite"
	$(ACTREC) verify-audit --db $(DEMO)/data/audit.sqlite

test: station-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(PROFILE) --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory deny
	$(CARGO) check $(PROFILE) -q -p actrec-synth --no-default-features --bin actrec-synth
	$(CARGO) check $(PROFILE) -q -p actrec-panel --no-default-features --features kms
	@# The contract tests of the tensorrt backend open this stand-in shim.
	$(CARGO) build $(PROFILE) -q -p actrec-fake-trt-shim
	@# CUDA preprocessing compiles without CUDA (it runs on the lent GPU only).
	$(CARGO) clippy $(PROFILE) -q -p actrec-preprocess --features cuda-12080 --all-targets -- -D warnings
	$(CARGO) test $(PROFILE) --workspace
	tools/check-units
	tools/lint-yocto
	@# The package from the binaries the tests just ran: no second build.
	$(MAKE) --no-print-directory deb-package
	tools/check-units $(DEB)
	$(MAKE) --no-print-directory station-smoke

# The everyday check, seconds to a few minutes once built (docs/TESTING.md):
# formatting, clippy, and the unit tests, none of which needs a display, a
# device or a media file; the integration tests are make test's.
check: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(PROFILE) --workspace --all-targets -- -D warnings
	@# Libraries only: the binaries' few unit tests would cost building them again as tests.
	$(CARGO) test $(PROFILE) --workspace --lib

# Licences, duplicate versions and sources of every dependency (deny.toml),
# by cargo-deny at a pinned version, offline: its advisory database is a git
# repository on GitHub, which no build here fetches (docs/TESTING.md).
# `cargo fetch` first brings every platform's crates from crates.io, which
# cargo-deny's `cargo metadata` reads.
CARGO_DENY_VERSION := 0.20.2
.PHONY: deny
deny: toolchain
	@[ "$$($(CARGO) deny --version 2>/dev/null)" = "cargo-deny $(CARGO_DENY_VERSION)" ] || \
	  $(CARGO) install --locked cargo-deny --version $(CARGO_DENY_VERSION)
	$(CARGO) fetch -q
	$(CARGO) deny --offline check licenses bans sources

# The .deb for stock JetPack or Debian (built on the release it is for), its
# units checked as installed, and lintian's findings (kept in target/deb/lintian.txt).
DEB_VERSION = $(shell awk -F'"' '/^\[/ { s = ($$0 == "[workspace.package]") } s && /^version/ { print $$2; exit }' Cargo.toml)
DEB = target/deb/actrec_$(DEB_VERSION)-1_$(shell dpkg --print-architecture).deb
deb: deps
	$(CARGO) build $(PROFILE) -q -p actrec -p actrec-panel
	$(MAKE) --no-print-directory deb-package
deb-package:
	tools/build-deb --bin-dir $(BIN_DIR)
	lintian --fail-on error --pedantic -I $(DEB) | tee target/deb/lintian.txt

# The virtual station: Debian 12 with the .deb in QEMU (TCG), a virtio-gpu
# screen, a USB stick and an RTP camera fed from the host (docs/STATION.md).
STATION := target/station
# One part of the short sequence (15 steps, 32 s): the camera's clip, and
# inside the image the file source the emulated engine judges it from.
station-image: station-deps deb
	$(MAKE) --no-print-directory station-disk
station-disk:
	@[ -f $(STATION)/clip/clip.mp4 ] || $(LAB) synth --seed 4 --parts 1 \
	  --sequence config/sequences/gear-housing-short.toml --width 320 --height 180 --bitrate-kbps 800 --out $(STATION)/clip
	@sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo tools/station/build-image $(DEB) $(STATION)/clip/clip.mp4 $(STATION)
station: station-image
	tools/station/station.py run $(STATION)
station-test: station-image
	tools/station/station.py test $(STATION) --actrec $(BIN_DIR)/actrec
# make test's version: the .deb it just packaged, every check but judging a
# part (about 16 minutes of emulated inference; station-test does it).
station-smoke: station-deps
	$(MAKE) --no-print-directory station-disk
	tools/station/station.py test $(STATION) --smoke --actrec $(BIN_DIR)/actrec

# The panel's screenshots in docs/: every state at every size, drawn by the
# panel's own renderer against a fake engine (screens), and a real run's (system).
screenshots: deps
	$(CARGO) build $(PROFILE) -q -p actrec -p actrec-lab -p actrec-panel
	ACTREC_SCREENSHOTS=$(CURDIR)/docs/screenshots $(CARGO) test $(PROFILE) -q -p actrec-panel --test screens --test system

# The station against the original pipeline (docs/PERFORMANCE.md): one
# 60 s 1080p30 clip, the Python baseline (tools/baseline) on it with and
# without its annotated output, then `actrec-lab bench`, which compares (each
# of its runs twice, the faster counting: this VM's speed wanders); then
# the micro-benchmarks of the core, the media pipelines and inference.
BENCH := target/bench
BASELINE_VENV := $(HOME)/.cache/actrec/baseline-venv
bench: deps $(BASELINE_VENV)/.installed
	$(CARGO) build $(PROFILE) -q -p actrec-lab
	@[ -f $(BENCH)/clip/clip.mp4 ] || $(LAB) synth --seed 1 --parts 2 --stride 30 --out $(BENCH)/clip
	$(BASELINE_VENV)/bin/python tools/baseline/baseline.py --clip $(BENCH)/clip/clip.mp4 \
	  --model config/models/demo --json $(BENCH)/baseline.json
	$(BASELINE_VENV)/bin/python tools/baseline/baseline.py --clip $(BENCH)/clip/clip.mp4 \
	  --model config/models/demo --json $(BENCH)/baseline-decisions.json --no-output
	$(LAB) bench --config config/demo/station.toml --clip $(BENCH)/clip/clip.mp4 --out $(BENCH) --repeat 2 \
	  --baseline $(BENCH)/baseline.json --baseline $(BENCH)/baseline-decisions.json
	$(CARGO) bench -p actrec-core
	$(CARGO) bench -p actrec-media
	$(CARGO) bench -p actrec-infer
# The TensorRT shim (docs/GPU.md), where TensorRT's headers are (JetPack:
# apt install tensorrt-dev). Then `sudo cmake --install target/trt-shim`
# puts libactrec_trt.so.2 in /usr/local/lib (and run `sudo ldconfig`).
trt-shim:
	cmake -S app/infer/trt-shim -B target/trt-shim -DCMAKE_BUILD_TYPE=Release
	cmake --build target/trt-shim
# PyTorch, PyAV and OpenCV for the baseline, from PyPI, outside the clone.
$(BASELINE_VENV)/.installed: tools/baseline/requirements.txt
	python3 -m venv $(BASELINE_VENV)
	$(BASELINE_VENV)/bin/pip install -q -r $<
	touch $@
