# actrec: the two set-up commands are `make demo` and `make test`.
# Each target installs what is missing on Debian/Ubuntu, then builds and runs.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
# One release build serves tests, tools and the demo (inference is far slower in debug).
PROFILE := --release
ACTREC := $(CARGO) run $(PROFILE) -q -p actrec --

# Debian/Ubuntu packages the build and the tests need. Later crates add theirs here.
APT_PACKAGES := build-essential pkg-config \
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev \
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-x \
  xvfb xauth
MIN_RUST := 1.95

.PHONY: demo test bench deps toolchain check fmt

deps: toolchain
	@missing=$$(for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || echo "$$p"; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

toolchain:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust $(MIN_RUST) or newer (rustup)"; exit 1; }
	@have=$$(rustc --version | awk '{print $$2}'); \
	if [ "$$(printf '%s\n%s\n' "$(MIN_RUST)" "$$have" | sort -V | head -1)" != "$(MIN_RUST)" ]; then \
	  echo "rustc $$have is older than $(MIN_RUST): update Rust (rustup update)"; exit 1; \
	fi
	@for c in rustfmt clippy; do \
	  $(CARGO) $${c/rustfmt/fmt} --version >/dev/null 2>&1 || rustup component add $$c; \
	done

# Until the live engine exists, the demo checks the seed's sequence over
# example window files: a good part, a faulty part, and the good part against
# the seed's "bad" sequence (the original article's error demonstration).
demo: deps
	$(CARGO) build $(PROFILE) -q -p actrec
	$(ACTREC) check-config config/station.toml
	@echo; echo "== a good assembly, checked against the seed sequence"
	$(ACTREC) check --format text --sequence config/sequences/gear-housing.toml --windows config/demo/good-part.windows.jsonl
	@echo; echo "== a faulty assembly (a greased disk left out, lid pressed before it was installed)"
	$(ACTREC) check --format text --sequence config/sequences/gear-housing.toml --windows config/demo/faulty-part.windows.jsonl
	@echo; echo "== the good assembly, checked against the seed's bad sequence"
	$(ACTREC) check --format text --sequence config/sequences/gear-housing-bad.toml --windows config/demo/good-part.windows.jsonl

test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(PROFILE) --workspace --all-targets -- -D warnings
	$(CARGO) test $(PROFILE) --workspace

bench: deps
	$(CARGO) bench -p actrec-core
	$(CARGO) bench -p actrec-media
