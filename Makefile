# Thin wrapper around meson; see README.md.
BUILD ?= build
.PHONY: all deps build test run demo clean keys image run-image

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

# The main job: build everything, make the Secure Boot keys if there are
# none yet, build the system image, boot it in QEMU (OVMF Secure Boot from an
# empty variable store, swtpm, serial console here; Ctrl-A X quits).
run: image
	./image/run.sh

# rempart-jail demonstrated on this machine (the main job of the first issue).
demo: build
	./scripts/demo.sh $(BUILD)

keys/db.key:
	./image/keys.sh

# Secure Boot keys of the project (PK/KEK/db) in keys/ (ignored by git); never overwritten.
keys:
	./image/keys.sh

# The system image (build-image/prod/disk.img; TEST=1 for the test variant). See image/README.md.
image: build keys/db.key
	./image/build.sh

# Boot the image in QEMU (OVMF Secure Boot in setup mode, swtpm, serial console here).
run-image: image
	./image/run.sh

clean:
	rm -rf $(BUILD) build-*
