# SPDX-License-Identifier: LGPL-2.1-or-later
# One non-recursive Makefile for chaird, chairctl, chair-sim and their tests.
# Each folder's sources are picked up by wildcard: add a .c file and it is built.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
PKG_CONFIG ?= pkg-config
CC ?= cc

PKGS := libsystemd libmodbus libgpiod inih json-c
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1)
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wundef -Wvla
INCLUDES := -Icommon -Iconfig -Idaemon -Idbus -Icli -Isim
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(INCLUDES) -D_GNU_SOURCE -DCHAIRD_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRCS := $(wildcard common/*.c config/*.c dbus/*.c) $(filter-out daemon/main.c,$(wildcard daemon/*.c))
SIM_SRCS := $(wildcard sim/*.c)
CLI_SRCS := $(wildcard cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRCS))

LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(LIB_SRCS))
SIM_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SIM_SRCS))
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))

BINS := $(BUILD)/chaird $(BUILD)/chair-sim $(if $(CLI_SRCS),$(BUILD)/chairctl)
UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_NAMES))
UNIT_SAN_BINS := $(addprefix $(BUILD)/tests-san/,$(UNIT_NAMES))

# `make V=1` shows the full commands
Q := $(if $(V),,@)

.PHONY: all deps mutation bench check check-unit check-unit-san check-integration demo install clean format bench
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS)

deps:
	@bash tools/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC-SAN  $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libchaird.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/libchaird-san.a: $(LIB_SAN_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/chaird: $(BUILD)/obj/daemon/main.o $(BUILD)/libchaird.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/chair-sim: $(SIM_OBJS) $(BUILD)/libchaird.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/chairctl: $(CLI_OBJS) $(BUILD)/libchaird.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libchaird.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests-san/%: $(BUILD)/san/tests/unit/%.o $(BUILD)/libchaird-san.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD-SAN  $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(UNIT_SAN_BINS)
	@bash tests/run-all.sh $(BUILD)

check-unit: $(UNIT_BINS)
	@bash tests/run-all.sh $(BUILD) unit

check-unit-san: $(UNIT_SAN_BINS)
	@bash tests/run-all.sh $(BUILD) unit-san

check-integration: all
	@bash tests/run-all.sh $(BUILD) integration

mutation: all
	@bash tools/mutation.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tools/demo.sh $(BUILD)

# install, deb and vm-check live with the packaging (packaging/packaging.mk)
include packaging/packaging.mk

bench: all
	@bash tools/bench.sh $(BUILD)

# fuzz, soak and friends live with the reliability tests (tests/reliability.mk)
-include tests/reliability.mk

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $(LIB_SRCS) $(SIM_SRCS) $(CLI_SRCS) $(UNIT_SRCS) daemon/main.c common/*.h config/*.h daemon/*.h

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
