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

# What libfog's base and cores link with (fog.pc), what the profiler's capture adds
# (fog-profiler.pc), and what only the daemon needs.
FOG_PKGS := jansson libelf zlib libprotobuf-c libdw
FOGPROF_PKGS := libbpf
# the uplink's remote-write bodies (user/uplink/, daemon side); libsnappy is C++, its .so
# brings libstdc++
DAEMON_PKGS := inih libmicrohttpd libcap-ng snappy
PKGS := $(FOG_PKGS) $(FOGPROF_PKGS) $(DAEMON_PKGS)
# libcurl is loaded when first used (user/base/curl_dl.c): its headers only
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
FOG_LIBS = $(shell pkg-config --libs $(FOG_PKGS) 2>/dev/null) -lpthread -lm
FOGPROF_LIBS = $(shell pkg-config --libs $(FOGPROF_PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

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
LIBFOG := $(OUTPUT)/libfog.a
LIBFOGPROF := $(OUTPUT)/libfogprof.a
# the daemon's own objects, archived only to link fogd, the unit tests and the benches
LIBFOGD := $(OUTPUT)/libfogd.a
# every library a program of the tree links, in link order
LIBS_ALL = $(LIBFOGD) $(LIBFOGPROF) $(LIBFOG)
FOGD := $(OUTPUT)/fogd
FOGCTL := $(OUTPUT)/fogctl
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
# unit tests that include fail_inject.h link its --wrap fakes (allocations and file calls that
# fail on the Nth call, so the clean-up paths run)
comma := ,
FAIL_INJECT_WRAP := malloc calloc realloc strdup strndup aligned_alloc posix_memalign open fopen \
	read pread write mmap
FAIL_INJECT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,\
	$(shell grep -l '"fail_inject.h"' $(UNIT_SRCS)))
HELPER_SRCS := $(wildcard tests/integration/helpers/*.c)
HELPER_BINS := $(patsubst tests/integration/helpers/%.c,$(OUTPUT)/tests/helpers/%,$(HELPER_SRCS))
PRELOAD_SRCS := $(wildcard tests/integration/preload/*.c)
PRELOAD_SOS := $(patsubst tests/integration/preload/%.c,$(OUTPUT)/tests/preload/%.so,$(PRELOAD_SRCS))
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(patsubst tools/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
FOGCTL_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(wildcard tools/fogctl*.c))
# fogctl's writer, parsers and command tables: no libcurl, unit-tested by test_fogctl_*
FOGCTL_CORE_OBJS := $(patsubst %,$(OUTPUT)/tools/fogctl_%.o,out parse cmd)

include mk/layers.mk
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(BASE_SRCS) $(CORE_SRCS))
LIBFOGPROF_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LAYER_CAPTURE))
LIBFOGD_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(DAEMON_SRCS))
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

# an archive is made again when mk/layers.mk moves a file between the layers
$(LIBFOG): $(LIB_OBJS) mk/layers.mk
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(LIBFOGPROF): $(LIBFOGPROF_OBJS) mk/layers.mk
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(LIBFOGD): $(LIBFOGD_OBJS) mk/layers.mk
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(FOGD): $(OUTPUT)/user/fogd/main.o $(LIBS_ALL)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

# fogctl profile diff reads and renders pprof files with the profiler's code: fogctl is a
# libfog application like any other (fog.pc's libraries), plus libcurl for fogd's socket
$(FOGCTL): $(FOGCTL_OBJS) $(LIBFOG)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(FOG_LIBS) $(shell pkg-config --libs libcurl) -o $@

# unit tests of fogctl link its core objects, not libfog
$(OUTPUT)/tests/unit/test_fogctl_%.o: CFLAGS += -Itools
$(OUTPUT)/tests/unit/test_fogctl_%: $(OUTPUT)/tests/unit/test_fogctl_%.o $(FOGCTL_CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(shell pkg-config --libs jansson) -lcmocka -o $@

# tests/unit/<name>.ldflags adds link flags to one test, e.g. -Wl,--wrap=calloc
$(OUTPUT)/tests/unit/%: $(OUTPUT)/tests/unit/%.o $(LIBS_ALL)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lcmocka $(UNIT_WRAP) \
		$(shell cat tests/unit/$*.ldflags 2>/dev/null) -o $@

$(FAIL_INJECT_BINS): $(OUTPUT)/tests/unit/fail_inject.o
$(FAIL_INJECT_BINS): UNIT_WRAP = $(addprefix -Wl$(comma)--wrap=,$(FAIL_INJECT_WRAP))

$(OUTPUT)/tests/helpers/%: tests/integration/helpers/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@ -lpthread

# LD_PRELOAD shims the integration tests put under fogd
$(OUTPUT)/tests/preload/%.so: tests/integration/preload/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -shared -fPIC -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@

$(OUTPUT)/bench/%: $(OUTPUT)/tools/bench/%.o $(LIBS_ALL)
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
	$(Q)$(MAKE) --no-print-directory check-layers unit integration

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
