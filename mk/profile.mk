# SPDX-License-Identifier: GPL-2.0-only
# The profiler's build pieces, included by the Makefile after its variables
# (LIB_OBJS, CFLAGS, PKG_LIBS) and before its rules:
# - pprof's profile.proto compiled with protoc-c into libfog (user/profile/pprof.c
#   uses it when the generated header is there);
# - the LD_PRELOAD allocation sampler as a shared object;
# - test programs tests/integration/helpers/prof_*.c built with clang and frame
#   pointers everywhere, so stacks walk through every frame (gcc 12 drops leaf frames).

PROF_PROTO_DIR := $(OUTPUT)/proto
PROF_PB_C := $(PROF_PROTO_DIR)/profile.pb-c.c
PROF_PB_H := $(PROF_PROTO_DIR)/profile.pb-c.h
PROF_PB_O := $(PROF_PROTO_DIR)/profile.pb-c.o

CFLAGS += -I$(PROF_PROTO_DIR)
LIB_OBJS += $(PROF_PB_O)

$(PROF_PB_C) $(PROF_PB_H) &: user/profile/profile.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(PROF_PROTO_DIR)
	$(Q)protoc-c --proto_path=user/profile --c_out=$(PROF_PROTO_DIR) profile.proto

# generated code: the project's warnings are not its author's
$(PROF_PB_O): $(PROF_PB_C) $(PROF_PB_H)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -fPIC $(shell pkg-config --cflags libprotobuf-c) -c $< -o $@

$(OUTPUT)/user/profile/pprof.o $(OUTPUT)/user/profile/pprof_read.o \
	$(OUTPUT)/user/profile/diff.o $(OUTPUT)/tests/unit/test_profile_diff.o: $(PROF_PB_H)

$(OUTPUT)/tests/helpers/prof_%: tests/integration/helpers/prof_%.c
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -Wall -Wextra \
		-Werror -D_GNU_SOURCE $< -o $@ -lpthread

# `make` with no goal builds everything: this file is read before the Makefile's `all`
.DEFAULT_GOAL := all

# The LD_PRELOAD allocation sampler: not in libfog.a (it defines malloc), built with
# frame pointers so its entry points' frames always walk (free may tail-call glibc).
FOGALLOC := $(OUTPUT)/libfogalloc.so
all: $(FOGALLOC)

$(FOGALLOC): user/profile/preload/fogalloc.c user/profile/allocfile.h
	$(call msg,SO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE $(WARN) -Iuser -fPIC -shared \
		-fvisibility=hidden -fno-omit-frame-pointer \
		-ftls-model=initial-exec -fno-plt $< -o $@ -lm -lpthread

# The library API's test program links libfog (the pattern rule above does not).
# With SAN=1 libfog carries gcc's sanitizer calls: link with gcc and the sanitizer flags.
PROF_API_CC = $(if $(filter 1,$(SAN)),$(CC) $(LDFLAGS),$(CLANG))
$(OUTPUT)/tests/helpers/prof_api: tests/integration/helpers/prof_api.c $(LIBFOGPROF) $(LIBFOG)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PROF_API_CC) -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -Wall -Wextra \
		-Werror -D_GNU_SOURCE -Iinclude $< $(LIBFOGPROF) $(LIBFOG) $(PKG_LIBS) -o $@

# Unwinding ground truth (tests/integration/test_profile_unwind*.sh): gcc -O2 without frame
# pointers, as most code on a host is built; only DWARF CFI reaches main.
$(OUTPUT)/tests/helpers/unwind_%: tests/integration/helpers/unwind_%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@
