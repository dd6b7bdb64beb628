# SPDX-License-Identifier: GPL-2.0-only
# Example programs using libfog through its public headers, included by the Makefile
# after its variables (OUTPUT, LIBFOG, LDFLAGS, PKG_LIBS) and before its rules.
# tools/examples/<name>.c is compiled by the Makefile's object rule (same CFLAGS as
# everything else) and linked like fogd into $(OUTPUT)/examples/<name>; `make` builds
# them and tests/integration/test_example.sh runs fog_example.

EXAMPLE_SRCS := $(wildcard tools/examples/*.c)
EXAMPLE_BINS := $(patsubst tools/examples/%.c,$(OUTPUT)/examples/%,$(EXAMPLE_SRCS))

.PHONY: examples
examples: $(EXAMPLE_BINS)

# `make` with no goal builds everything: this file may be read before the Makefile's `all`
.DEFAULT_GOAL := all
all: $(EXAMPLE_BINS)
integration: $(EXAMPLE_BINS)

$(OUTPUT)/examples/%: $(OUTPUT)/tools/examples/%.o $(LIBFOGPROF) $(LIBFOG)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@
