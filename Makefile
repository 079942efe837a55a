# Thin wrapper around meson; see README.md.
BUILD ?= build
.PHONY: all deps build test run clean keys image run-image

all: build

deps:
	./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The whole test suite: every tier, ends with "N passed, N failed".
test: deps
	./scripts/run-tests.sh

# The main job (until the system image exists): build, then demonstrate the jail.
run: build
	./scripts/demo.sh $(BUILD)

# Secure Boot keys of the project (PK/KEK/db) in keys/ (ignored by git); never overwritten.
keys:
	./image/keys.sh

# The system image (build-image/prod/disk.img; TEST=1 for the test variant). See image/README.md.
image:
	./image/build.sh

# Boot the image in QEMU (OVMF Secure Boot in setup mode, swtpm, serial console here).
run-image: image
	./image/run.sh

clean:
	rm -rf $(BUILD) build-*
