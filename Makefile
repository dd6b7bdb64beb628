# SPDX-License-Identifier: GPL-2.0-only
# fogd build: vmlinux.h -> bpf/*.bpf.o -> *.skel.h -> libfog.a -> fogd, fogctl, tests.
# `make V=1` shows the commands; `make SAN=1` builds with ASan+UBSan into build-san/.

SAN ?= 0
V ?= 0
OUTPUT := $(if $(filter 1,$(SAN)),build-san,build)
CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX := vmlinux/vmlinux.h

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf inih jansson libmicrohttpd libcap-ng
# the uplink's remote-write bodies (user/uplink/); libsnappy is C++, its .so brings libstdc++
PKGS += snappy
# libcurl is loaded when first used (user/agent/curl_dl.c): its headers only
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread -lm

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS := -O2 -g -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Iuser -I$(OUTPUT)/skel
LDFLAGS :=
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf -Ivmlinux

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/skel/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(filter-out user/agent/main.c,$(wildcard user/*/*.c))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
LIBFOG := $(OUTPUT)/libfog.a
FOGD := $(OUTPUT)/fogd
FOGCTL := $(OUTPUT)/fogctl
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/integration/helpers/*.c)
HELPER_BINS := $(patsubst tests/integration/helpers/%.c,$(OUTPUT)/tests/helpers/%,$(HELPER_SRCS))
PRELOAD_SRCS := $(wildcard tests/integration/preload/*.c)
PRELOAD_SOS := $(patsubst tests/integration/preload/%.c,$(OUTPUT)/tests/preload/%.so,$(PRELOAD_SRCS))
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(patsubst tools/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
FOGCTL_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(wildcard tools/fogctl*.c))

include mk/profile.mk
include mk/uplink.mk
include mk/fuzz.mk
include mk/examples.mk
include mk/install.mk
include mk/soak.mk

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# keep the objects make would remove as intermediates (bpf objects, generated sources,
# objects of programs), so that a second `make` finds them and does nothing
.SECONDARY:
.PHONY: all deps run test unit integration bench clean format

all: $(FOGD) $(FOGCTL) $(UNIT_BINS) $(HELPER_BINS) $(PRELOAD_SOS) $(BENCH_BINS)

deps:
	$(Q)bash tools/install-deps.sh

# The committed vmlinux.h is the x86_64 fallback for hosts without BTF;
# `make vmlinux` regenerates it from the running kernel.
.PHONY: vmlinux
vmlinux:
	$(call msg,GEN,$(VMLINUX))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp && mv $(VMLINUX).tmp $(VMLINUX)

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) $(wildcard include/fog/abi/*.h) $(VMLINUX) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp && $(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# User objects wait for every skeleton on a clean tree (order-only), then follow -MMD.
$(OUTPUT)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(LIBFOG): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FOGD): $(OUTPUT)/user/agent/main.o $(LIBFOG)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(FOGCTL): $(FOGCTL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(shell pkg-config --libs jansson libcurl) -o $@

# tests/unit/<name>.ldflags adds link flags to one test, e.g. -Wl,--wrap=calloc
$(OUTPUT)/tests/unit/%: $(OUTPUT)/tests/unit/%.o $(LIBFOG)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lcmocka $(shell cat tests/unit/$*.ldflags 2>/dev/null) -o $@

$(OUTPUT)/tests/helpers/%: tests/integration/helpers/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@ -lpthread

# LD_PRELOAD shims the integration tests put under fogd
$(OUTPUT)/tests/preload/%.so: tests/integration/preload/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -shared -fPIC -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@

$(OUTPUT)/bench/%: $(OUTPUT)/tools/bench/%.o $(LIBFOG)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(OUTPUT)/bpf $(OUTPUT)/skel:
	$(Q)mkdir -p $@

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(FOGD)

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit integration

unit: $(UNIT_BINS)
	$(Q)bash tests/unit/run.sh $(UNIT_BINS)

integration: $(FOGD) $(FOGCTL) $(HELPER_BINS) $(PRELOAD_SOS)
	$(Q)OUTPUT=$(OUTPUT) bash tests/integration/run.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)OUTPUT=$(OUTPUT) bash tools/bench/run.sh

format:
	$(Q)clang-format -i $(wildcard bpf/*.c bpf/*.h include/fog/*.h include/fog/abi/*.h user/*/*.c user/*/*.h tools/*.c tests/unit/*.c)

clean:
	$(Q)rm -rf build build-san

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
