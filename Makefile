# Thin wrapper around meson; see README.md.
BUILD ?= build
.PHONY: all deps build test run clean

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

clean:
	rm -rf $(BUILD) build-*
