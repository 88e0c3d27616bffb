# SPDX-License-Identifier: LGPL-2.1-or-later
# Reliability targets (included by the Makefile; docs/reliability.md):
#   make fuzz [FUZZ_SECONDS=N]   libFuzzer targets of tests/fuzz/, N seconds each over their corpora
#   make fuzz-build              just build them ($(BUILD)/fuzz/fuzz-*)
#   make san-bin                 chaird and chair-sim with ASan+UBSan in $(BUILD)/san-bin/, for scenarios
#   make check-faults            the fault matrix (tests/faults/) alone
#   make soak [SOAK_MINUTES=N]   programs back to back with random faults; RSS and fds at start and end

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
SOAK_MINUTES ?= 30
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
# clang's warnings differ from gcc's: shown, never fatal here (gcc with -Werror owns the tree)
FUZZ_CFLAGS = $(filter-out -Werror,$(ALL_CFLAGS)) -Itests/fuzz -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-DFUZZ_EXAMPLE_CONFIG='"$(CURDIR)/config/examples/chaird.conf"'
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(LIB_SRCS))

SAN_BIN_SIM_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(SIM_SRCS))

.PHONY: fuzz fuzz-build san-bin soak check-faults

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC-FUZZ $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/libchaird-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libchaird-fuzz.a tests/fuzz/fuzz-util.h
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libchaird-fuzz.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@bash tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

$(BUILD)/san-bin/chaird: $(BUILD)/san/daemon/main.o $(BUILD)/libchaird-san.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD-SAN  $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/san-bin/chair-sim: $(SAN_BIN_SIM_OBJS) $(BUILD)/libchaird-san.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD-SAN  $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

san-bin: $(BUILD)/san-bin/chaird $(BUILD)/san-bin/chair-sim

check-faults: all
	@bash tests/run-all.sh $(BUILD) faults

soak: all
	@bash tools/soak.sh $(BUILD) $(SOAK_MINUTES)
