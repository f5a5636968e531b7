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
# The hardening builds live beside the normal one, each in its own folder.
FUZZ_BUILD_DIR ?= build-fuzz
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
# Seconds per fuzz target: `make fuzz` runs long, `make test` briefly (0 skips it).
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 20

CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	-DOSPREY_SHARED_MODELS=$(SHARED_MODELS) \
	$(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: setup configure build serve test format clean fuzz asan-build test-asan test-asan-unit \
	test-tsan

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

# The unit, e2e and network tests, then each fuzz target for a few seconds
# (a clang build of its own in $(FUZZ_BUILD_DIR); see tests/fuzz/run).
test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	@if [ "$(FUZZ_TEST_SECONDS)" != 0 ]; then \
		FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) FUZZ_JOBS=$(JOBS) \
		FUZZ_BUILD_DIR=$(FUZZ_BUILD_DIR) tests/fuzz/run; \
	fi

# Every fuzz target for $(FUZZ_SECONDS) seconds, $(JOBS) at a time; the
# corpora found are kept in $(FUZZ_BUILD_DIR)/fuzz-corpus, the seeds untouched.
fuzz: setup
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(JOBS) FUZZ_BUILD_DIR=$(FUZZ_BUILD_DIR) tests/fuzz/run

# Sanitizer runs: a report fails the test that caused it. LSan and TSan skip
# only what tests/sanitizers/*.supp lists, all of it inside llama.cpp, ggml
# or the OpenMP runtime, never osprey's own code.
SANITIZERS := $(CURDIR)/tests/sanitizers
# OSPREY_SANITIZER tells tests what runs under them: ASan holds freed memory
# in quarantine, so a test that bounds the server's RSS cannot hold there.
# $(1): more ASAN_OPTIONS, each starting with ':'.
asan_env = OSPREY_SANITIZER=address ASAN_OPTIONS=detect_leaks=1:abort_on_error=1$(1) \
	LSAN_OPTIONS=suppressions=$(SANITIZERS)/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TSAN_ENV := OSPREY_SANITIZER=thread \
	TSAN_OPTIONS=suppressions=$(SANITIZERS)/tsan.supp:halt_on_error=1:second_deadlock_stack=1
# Tests whose leak suppressions need whole stacks (see lsan.supp): llama.cpp
# has no frame pointers, and unwinding without them on every allocation
# slows the engine tests enough to break their timing, so only these get it.
ASAN_WHOLE_STACK_TESTS := MultimodalTest\.AudioProjectorOfAnotherWidthIsRefused

# The whole tree under ASan and UBSan (gcc), in $(ASAN_BUILD_DIR).
asan-build: setup
	@cmake -S . -B $(ASAN_BUILD_DIR) $(CMAKE_FLAGS) -DOSPREY_SANITIZE=address >/dev/null
	@cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

# ctest in $(ASAN_BUILD_DIR), leaving out the tests that match $(1).
define asan_ctest
	@$(call asan_env) ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j $(JOBS) \
		-E '^($(ASAN_WHOLE_STACK_TESTS)$(1))$$'
	@$(call asan_env,:fast_unwind_on_malloc=0) ctest --test-dir $(ASAN_BUILD_DIR) \
		--output-on-failure -R '^($(ASAN_WHOLE_STACK_TESTS))$$'
endef

# Every ctest test (unit, seed replays, e2e, network) under ASan and UBSan.
test-asan: asan-build
	$(call asan_ctest,)

# The same without the end-to-end and network suites: what CI runs.
test-asan-unit: asan-build
	$(call asan_ctest,|e2e_openai|net_ssrf|format_check)

# The engine's threads (its own, the HTTP strands that feed it, ggml's
# workers) under ThreadSanitizer (gcc), in $(TSAN_BUILD_DIR): the engine and
# HTTP test binaries, run directly once ctest has generated their models.
TSAN_TESTS := tests/engine/engine_test tests/engine/engine_multimodal_test tests/http/http_test
test-tsan: setup
	@cmake -S . -B $(TSAN_BUILD_DIR) $(CMAKE_FLAGS) -DOSPREY_SANITIZE=thread >/dev/null
	@cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target osprey-make-test-model \
		$(notdir $(TSAN_TESTS))
	@$(TSAN_ENV) ctest --test-dir $(TSAN_BUILD_DIR) --output-on-failure \
		-R '^make_multimodal_models$$'
	@for test in $(TSAN_TESTS); do \
		echo "tsan: $$test"; \
		$(TSAN_ENV) $(TSAN_BUILD_DIR)/$$test --gtest_brief=1 || exit 1; \
	done

# Rewrites every C++ file (tracked, or new and not ignored) in place with the repo's .clang-format.
format:
	@git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
