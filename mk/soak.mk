# SPDX-License-Identifier: GPL-2.0-only
# Long checks, included by the Makefile after its variables (OUTPUT, FOGD, UNIT_BINS).
# - `make soak [SOAK_MINUTES=N]`: tools/soak.sh runs fogd under mixed load (stress-ng, fio,
#   perf bench sched messaging) for N minutes (30 by default), sampling its RSS and open fds
#   every minute; fails when either grows past its warm-up figure by more than the margins
#   stated in tools/soak.sh (SOAK_RSS_MARGIN_KB, SOAK_FD_MARGIN). Needs root.
# - `make valgrind`: every unit test binary under valgrind memcheck (--leak-check=full,
#   --error-exitcode=1), except VALGRIND_SKIP, whose tests need root (cgroups, children) or
#   make bpf() calls memcheck cannot follow (batch lookups are unknown to it);
#   one log per binary in $(OUTPUT)/valgrind/, a line per binary with its time and result.

SOAK_MINUTES ?= 30
VALGRIND ?= valgrind
VALGRIND_FLAGS ?= --error-exitcode=1 --leak-check=full --track-origins=yes --num-callers=30
VALGRIND_SKIP ?= test_sched_exec
VALGRIND_BINS := $(filter-out $(patsubst %,$(OUTPUT)/tests/unit/%,$(VALGRIND_SKIP)),$(UNIT_BINS))

.PHONY: soak valgrind

soak_saved_goal := $(.DEFAULT_GOAL)

soak: $(FOGD) $(FOGCTL)
	$(Q)OUTPUT=$(OUTPUT) SOAK_MINUTES=$(SOAK_MINUTES) bash tools/soak.sh

# Runs every binary even when one fails; fails at the end naming the ones that did.
valgrind: $(VALGRIND_BINS)
	$(Q)mkdir -p $(OUTPUT)/valgrind
	$(Q)command -v $(VALGRIND) >/dev/null || { echo "valgrind: not installed (make deps)"; exit 1; }; \
	failed=; start=$$(date +%s); \
	for t in $(VALGRIND_BINS); do \
		n=$$(basename $$t); s=$$(date +%s); \
		if $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$(OUTPUT)/valgrind/$$n.log $$t \
			>$(OUTPUT)/valgrind/$$n.out 2>&1; then r=clean; \
		else r="FAILED (see $(OUTPUT)/valgrind/$$n.log)"; failed="$$failed $$n"; fi; \
		printf 'valgrind %-24s %4d s  %s\n' $$n $$(($$(date +%s) - s)) "$$r"; \
	done; \
	echo "valgrind: $(words $(VALGRIND_BINS)) binaries in $$(($$(date +%s) - start)) s," \
		"skipped (need root): $(VALGRIND_SKIP); failed:$${failed:- none}"; \
	[ -z "$$failed" ]

.DEFAULT_GOAL := $(soak_saved_goal)
