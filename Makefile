# The two commands a new user needs are `make serve` and `make test`; each
# sets up what is missing first (see scripts/setup).

SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
SHARED_MODELS ?= $(abspath ../shared/models)
DEMO_MODEL ?= $(SHARED_MODELS)/stories260K.gguf
HOST ?= 127.0.0.1
PORT ?= 8080
JOBS ?= $(shell nproc)

CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	-DOSPREY_SHARED_MODELS=$(SHARED_MODELS) \
	$(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: setup configure build serve test format clean

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Serves the trained demo model when ../shared/models has it; otherwise a
# generated random-weight model, whose answers are random (the log says so).
serve: build
	@model="$(DEMO_MODEL)"; \
	if [ ! -f "$$model" ]; then \
		model="$(BUILD_DIR)/test-model.gguf"; \
		echo "osprey: $(DEMO_MODEL) not found; serving a generated test model whose answers are random"; \
		$(BUILD_DIR)/tools/osprey-make-test-model --out "$$model" || exit 1; \
	fi; \
	exec $(BUILD_DIR)/osprey serve --model "$$model" --host $(HOST) --port $(PORT)

test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# Rewrites every C++ file in place with the repo's .clang-format.
format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
