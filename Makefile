# mullama -- plain make.  Targets:
#   all (default)  build ./mullama
#   test           build and run every test (unit + CLI), ends "N passed, N failed"
#   asan           build with AddressSanitizer + UBSan into build-asan/ and run the tests
#   fuzz           libFuzzer targets (clang) into build-fuzz/; FUZZ_SECONDS=60 make fuzz-run
#                  (FUZZ_ONLY=gguf runs one target)
#   models         fetch the test models into tests/models/ (see tests/models.sh)
#   deps           apt-get install every Debian package the build and tests need
#   neon-check     cross-build tests/neon_check.c for aarch64 into build-neon/ (run it
#                  with qemu-aarch64-static on x86: tests/cli/neon.sh does both)
#   install        PREFIX=/usr/local DESTDIR= (binary, man page, bash/zsh/fish completions)
#   uninstall      removes what install put there
# Toggles: VULKAN=0 disables the Vulkan backend, BLAS=0 disables OpenBLAS.

CC ?= cc
PREFIX ?= /usr/local
BUILD ?= build
VULKAN ?= 1
BLAS ?= 1

PKGS := libcrypto libpcre2-8 libcjson libcurl libarchive readline libmicrohttpd zlib
ifeq ($(BLAS),1)
PKGS += openblas
DEFS += -DMU_HAVE_BLAS=1
endif
ifeq ($(VULKAN),1)
PKGS += vulkan
DEFS += -DMU_HAVE_VULKAN=1
endif

COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
OPT ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation \
        -Iinclude -Isrc -pthread -fno-strict-aliasing $(DEFS) \
        -DMU_BUILD_COMMIT='"$(COMMIT)"' -MMD -MP
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS = $(PKG_LIBS) -lm -pthread

ifeq ($(BUILD),build-asan)
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT = -O1 -g
endif
CFLAGS_ALL = $(CFLAGS_BASE) $(PKG_CFLAGS) $(OPT) -g $(SAN) $(CFLAGS)
CFLAGS_ALL += -I$(BUILD)/gen
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

# Sources: every .c under src/ (main.c only in the binary).  Per-ISA files
# get their own -m flags; nothing else is built with them.
SRC := $(sort $(wildcard src/*.c src/*/*.c))
SRC := $(filter-out src/main.c,$(SRC))
OBJ := $(SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c)) tests/test_main.c
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

ISA_AVX2 := -mavx2 -mfma -mf16c -mbmi2
ISA_AVX512 := $(ISA_AVX2) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16
$(BUILD)/src/kernels/cpu_avx2.o: ISA = $(ISA_AVX2)
$(BUILD)/src/kernels/cpu_avx512.o: ISA = $(ISA_AVX512)
$(BUILD)/src/kernels/mm_kquant_avx512.o: ISA = $(ISA_AVX512) -O3
$(BUILD)/src/kernels/gemm_avx2.o: ISA = $(ISA_AVX2) -O3
$(BUILD)/src/kernels/gemm_avx512.o: ISA = $(ISA_AVX512) -O3
$(BUILD)/src/engine/attn_f16_avx512.o: ISA = $(ISA_AVX512) -O3
$(BUILD)/src/kernels/gemm_amx.o: ISA = $(ISA_AVX512) -mamx-tile -mamx-int8 -O3

ifeq ($(BUILD),build)
BIN = mullama
TESTBIN = tests/mullama-test
else
BIN = $(BUILD)/mullama
TESTBIN = $(BUILD)/mullama-test
endif

.PHONY: neon-check
.PHONY: all test asan fuzz fuzz-targets fuzz-run models deps install uninstall clean check
all: $(BIN)

$(BIN): $(BUILD)/src/main.o $(OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(TESTBIN): $(TEST_OBJ) $(OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(CFLAGS_ALL) $(ISA) -c -o $@ $<

# `mullama completion SHELL` prints completions/mullama.*, embedded here.
COMPLETIONS := completions/mullama.bash completions/mullama.zsh completions/mullama.fish
$(BUILD)/gen/completions.h: $(COMPLETIONS) tools/embed.sh
	@mkdir -p $(dir $@)
	tools/embed.sh $(foreach f,$(COMPLETIONS),mu_completion_$(subst .,,$(suffix $(f)))=$(f)) >$@.tmp && mv $@.tmp $@
$(BUILD)/src/cli/completion.o: $(BUILD)/gen/completions.h

-include $(OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/src/main.d

# ---- Vulkan shaders: GLSL compiled by glslc into C arrays in $(BUILD)/shaders/,
# #included by src/kernels/vulkan.c (mul_mat and quantize once per type).
ifeq ($(VULKAN),1)
VK_MM := f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k
VK_QT := q8_0 q8_1 q8_k
VK_PLAIN := rmsnorm rope kv_store attn glu add softcap copy fmath
VK_SPV := $(VK_MM:%=$(BUILD)/shaders/mul_mat_%.h) $(VK_QT:%=$(BUILD)/shaders/quantize_%.h) \
          $(VK_PLAIN:%=$(BUILD)/shaders/%.h)
GLSLC ?= glslc
GLSLC_FLAGS = -mfmt=c -O -fshader-stage=compute --target-env=vulkan1.1
up = $(shell echo $(1) | tr a-z A-Z)
$(BUILD)/shaders/mul_mat_%.h: shaders/mul_mat.comp shaders/common.glsl
	@mkdir -p $(dir $@)
	@echo "GLSLC $@"; $(GLSLC) $(GLSLC_FLAGS) -DTYPE_$(call up,$*) -o $@ $<
$(BUILD)/shaders/quantize_%.h: shaders/quantize.comp shaders/common.glsl
	@mkdir -p $(dir $@)
	@echo "GLSLC $@"; $(GLSLC) $(GLSLC_FLAGS) -D$(call up,$*) -o $@ $<
$(BUILD)/shaders/%.h: shaders/%.comp shaders/common.glsl
	@mkdir -p $(dir $@)
	@echo "GLSLC $@"; $(GLSLC) $(GLSLC_FLAGS) -o $@ $<
$(BUILD)/src/kernels/vulkan.o: $(VK_SPV)
$(BUILD)/src/kernels/vulkan.o: CFLAGS_ALL += -I$(BUILD)
endif

test: $(BIN) $(TESTBIN)
	MULLAMA_BIN=$(abspath $(BIN)) MULLAMA_TESTBIN=$(abspath $(TESTBIN)) tests/run.sh

check: test

asan:
	$(MAKE) BUILD=build-asan build-asan/mullama build-asan/mullama-test
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	MULLAMA_BIN=$(abspath build-asan/mullama) MULLAMA_TESTBIN=$(abspath build-asan/mullama-test) \
	MULLAMA_ASAN=1 tests/run.sh

# ---- NEON: the aarch64 kernel table against the scalar one, standalone ------
NEON_CC ?= aarch64-linux-gnu-gcc
NEON_SRC := tests/neon_check.c src/kernels/quant.c src/kernels/cpu.c src/kernels/cpu_neon.c \
        src/kernels/cpu_avx2.c src/kernels/cpu_avx512.c src/types.c src/base/err.c
neon-check: build-neon/neon_check
build-neon/neon_check: $(NEON_SRC) $(wildcard include/mullama/*.h src/kernels/*.h)
	@mkdir -p build-neon
	$(NEON_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wno-format-truncation -Iinclude -Isrc -pthread -static -o $@ $(NEON_SRC) -lm

# ---- fuzzing (clang + libFuzzer): objects in build-fuzz/ -------------------
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,build-fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
ifeq ($(BUILD),build-fuzz)
CC = clang
SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
      -fno-omit-frame-pointer -Wno-unknown-warning-option
OPT = -O1 -g
endif
fuzz:
	$(MAKE) BUILD=build-fuzz fuzz-targets
fuzz-targets: $(FUZZ_TARGETS)
# Targets link a static archive, so they pull only the objects they use; the
# kernels (per-ISA builtins clang 14 lacks) and the CLI are left out.
FUZZ_LIB_OBJ = $(filter-out build-fuzz/src/kernels/% build-fuzz/src/cli/%,$(OBJ))
build-fuzz/libmullama.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
.PRECIOUS: build-fuzz/tests/fuzz/%.o
build-fuzz/fuzz_%: build-fuzz/tests/fuzz/fuzz_%.o build-fuzz/libmullama.a
	$(CC) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $^ $(LIBS)
FUZZ_SECONDS ?= 60
FUZZ_ONLY ?=
fuzz-run: fuzz
	@for t in $(if $(FUZZ_ONLY),build-fuzz/fuzz_$(FUZZ_ONLY),$(FUZZ_TARGETS)); do n=$${t#build-fuzz/fuzz_}; \
	  mkdir -p fuzz/out/$$n; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=fuzz/out/$$n/ \
	      fuzz/out/$$n tests/fuzz/corpus/$$n || exit 1; done

models:
	tests/models.sh

deps:
	tests/deps.sh

# Completion directories are where Debian's shells look under /usr/local
# and /usr (override for other systems).
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mullama
	install -m 644 man/mullama.1 $(DESTDIR)$(PREFIX)/share/man/man1/mullama.1
	install -m 644 completions/mullama.bash $(DESTDIR)$(BASHCOMPDIR)/mullama
	install -m 644 completions/mullama.zsh $(DESTDIR)$(ZSHCOMPDIR)/_mullama
	install -m 644 completions/mullama.fish $(DESTDIR)$(FISHCOMPDIR)/mullama.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mullama $(DESTDIR)$(PREFIX)/share/man/man1/mullama.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/mullama $(DESTDIR)$(ZSHCOMPDIR)/_mullama \
	    $(DESTDIR)$(FISHCOMPDIR)/mullama.fish

clean:
	rm -rf build build-asan build-fuzz mullama tests/mullama-test
