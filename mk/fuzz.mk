# SPDX-License-Identifier: GPL-2.0-only
# libFuzzer targets for every parser of outside input, included by the Makefile after
# its variables (PKG_CFLAGS, PKG_LIBS).
# - tests/fuzz/fuzz_<target>.c, built with clang -fsanitize=fuzzer,address,undefined
#   into build-fuzz/ (never build/ or build-san/; no BPF object is built here).
# - Each target compiles the user/*.c files it exercises itself (FUZZ_SRCS_<target>),
#   so they carry the fuzzing and sanitizer instrumentation; libfog.a is not used.
# - tests/fuzz/corpus/<target>/ holds hand-made seeds and every crasher found so far;
#   tests/fuzz/fuzz_<target>.dict, when there, is a libFuzzer dictionary;
#   tests/fuzz/fuzz_<target>.flags, when there, adds flags to that target's runs (later
#   flags win: a tighter memory bound for the ELF target).
# `make fuzz FUZZ_SECONDS=N` runs each target N seconds (10 by default); new inputs go
# to build-fuzz/corpus/<target>/, crashers to build-fuzz/crash/<target>/.
# `make fuzz-smoke` (CI) replays every seed, then fuzzes each target FUZZ_SMOKE_SECONDS.

FUZZ_OUT := build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_SMOKE_SECONDS ?= 5
# per-input time and memory limits: a hang or a runaway allocation is a finding too
FUZZ_RUN_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1

FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
# -Werror only for the targets: clang may warn where the project's gcc build does not,
# and those warnings (shown) must not stop the fuzzing
FUZZ_CFLAGS := -O1 -g -std=gnu11 -D_GNU_SOURCE $(FUZZ_SAN) -Wall -Wextra \
	-Wno-unused-parameter -Wno-missing-field-initializers -Iinclude -Iuser \
	-I$(FUZZ_OUT)/proto

FUZZ_TARGETS := config events prom psi meminfo io_dev net_stats cgroup elfsym profile_api \
	monitor sched_api extender perfmap maps elfblob allocfile \
	procfiles ring query pprof_read uplink_segment pycode

# What each target compiles besides tests/fuzz/fuzz_<target>.c.
# fogd's own heap (base/heap.c) and what it is built on: arena, pool, metrics
FUZZ_HEAP_SRCS := user/base/heap.c user/base/log.c user/base/text.c user/base/prom.c \
	user/base/hist.c \
	user/mem/arena.c user/mem/arena_heap.c user/mem/arena_report.c user/mem/view.c \
	user/mem/pool.c user/mem/pool_mgr.c user/mem/pool_stats.c user/mem/memopt.c \
	user/mem/pressure.c user/mem/lazy.c user/base/psi.c user/base/meminfo.c \
	user/base/cgroup.c
FUZZ_SRCS_config := user/agent/config.c user/base/text.c
FUZZ_SRCS_events := user/collect/events.c user/base/loop.c $(FUZZ_HEAP_SRCS)
FUZZ_SRCS_prom := user/base/prom.c user/base/hist.c user/base/text.c
FUZZ_SRCS_psi := user/base/psi.c
FUZZ_SRCS_meminfo := user/base/meminfo.c
FUZZ_SRCS_io_dev := user/collect/io_dev.c user/base/hist.c
FUZZ_SRCS_net_stats := user/collect/net_stats.c user/base/text.c user/base/sort.c
FUZZ_SRCS_cgroup := user/base/cgroup.c user/base/log.c
FUZZ_SRCS_elfsym := user/profile/elfsym.c user/profile/elfsym_lines.c user/profile/elfsym_blob.c \
	user/profile/elfsym_cache.c user/base/safe_open.c user/base/log.c
# what fogd takes from its symbol helper
FUZZ_SRCS_elfblob := $(FUZZ_SRCS_elfsym)
# the symbolizer's text parsers (perf maps, kallsyms, /proc/PID/maps lines)
FUZZ_SRCS_perfmap := user/profile/symbolize.c user/profile/elfsym.c user/profile/elfsym_lines.c \
	user/profile/elfsym_blob.c user/profile/elfsym_cache.c user/base/safe_open.c \
	user/base/log.c user/base/procfs.c
FUZZ_SRCS_maps := $(FUZZ_SRCS_perfmap)
# the allocation sampler's shared file and the memory profiles built from it
FUZZ_SRCS_allocfile := user/profile/alloc.c user/profile/prof.c $(FUZZ_SRCS_perfmap)
# every parser of /proc/PID/stat and status text (run.c's with its library API around it;
# the target stands in for the CPU session and rendering, which need BPF)
FUZZ_SRCS_procfiles := user/profile/run.c $(FUZZ_SRCS_allocfile)
FUZZ_LDFLAGS_procfiles := -Wl,--wrap=open
# CPython code objects and location tables read from a process's memory (issue 14)
FUZZ_SRCS_pycode := user/profile/pyframes.c
# continuous-profile snapshot names: the ring's folder listing and reads by name
FUZZ_SRCS_ring := user/profile/ring.c user/base/log.c
# the JSON API's query and path arguments, and the errors that echo them
FUZZ_SRCS_query := user/export/http.c user/base/loop.c $(FUZZ_HEAP_SRCS)
# a segment file of the uplink's buffer, torn or corrupt (user/uplink/)
FUZZ_SRCS_uplink_segment := user/uplink/segfile.c user/uplink/seglog.c user/uplink/seglog_open.c \
	user/uplink/encode.c
FUZZ_GEN_uplink_segment := $(FUZZ_OUT)/proto/remote.pb-c.o
FUZZ_SRCS_extender := user/sched/extender.c user/export/http.c user/base/loop.c user/base/curl_dl.c \
	$(FUZZ_HEAP_SRCS)
FUZZ_SRCS_sched_api := user/sched/api_json.c user/base/body.c user/sched/engine.c user/sched/worker.c \
	user/sched/table.c user/sched/queue.c user/sched/strategy.c user/sched/learner.c user/sched/interfere.c
# the profiler's HTTP handlers with routes and timers captured (--wrap) and the
# capture session replaced by the target, so no BPF program is loaded
FUZZ_SRCS_profile_api := user/profile/server.c user/profile/server_output.c user/profile/prof.c user/profile/render.c \
	user/profile/flame.c user/profile/report.c user/profile/bottleneck.c \
	user/profile/pprof.c user/profile/speedscope.c user/profile/elfsym.c user/profile/elfsym_lines.c user/profile/elfsym_blob.c \
	user/profile/elfsym_cache.c user/base/safe_open.c \
	user/export/http.c user/base/loop.c $(FUZZ_HEAP_SRCS)
FUZZ_GEN_profile_api := $(FUZZ_OUT)/proto/profile.pb-c.o
FUZZ_LDFLAGS_profile_api := -Wl,--wrap=fog_http__route,--wrap=fog_http_arg \
	-Wl,--wrap=fog_http_defer,--wrap=fog_http_finish \
	-Wl,--wrap=fog_loop__add_timer,--wrap=fog_loop__del_timer,--wrap=clock_gettime
# pprof files given to fogctl profile diff: the reader, the model and the diff's outputs
FUZZ_SRCS_pprof_read := user/profile/pprof_read.c user/profile/diff.c user/profile/prof.c \
	user/profile/pprof.c user/profile/flame.c user/profile/report.c user/profile/bottleneck.c
FUZZ_GEN_pprof_read := $(FUZZ_OUT)/proto/profile.pb-c.o
FUZZ_SRCS_monitor := user/monitor/monitor.c user/monitor/threshold.c user/monitor/format.c \
	user/monitor/json.c user/monitor/recommend.c user/monitor/sampler.c \
	user/monitor/series.c user/base/sort.c user/monitor/trend.c user/monitor/actions.c user/monitor/alert.c \
	user/monitor/alertmanager.c user/monitor/hook.c user/monitor/webhook.c \
	user/base/log.c user/base/text.c user/base/child.c user/base/curl_dl.c \
	user/base/http_client.c user/base/meminfo.c user/base/psi.c

FUZZ_BINS := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))
fuzz_obj = $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(1))

.PHONY: fuzz fuzz-build fuzz-smoke

# keep whatever goal the Makefile has (or will get) as the default
fuzz_saved_goal := $(.DEFAULT_GOAL)

$(FUZZ_OUT)/obj/tests/fuzz/%.o: FUZZ_WERROR := -Werror
$(FUZZ_OUT)/obj/%.o: %.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WERROR) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_OUT)/proto/profile.pb-c.c $(FUZZ_OUT)/proto/profile.pb-c.h &: user/profile/profile.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(FUZZ_OUT)/proto
	$(Q)protoc-c --proto_path=user/profile --c_out=$(FUZZ_OUT)/proto profile.proto

# generated code: instrumented, but the project's warnings are not its author's
$(FUZZ_OUT)/proto/profile.pb-c.o: $(FUZZ_OUT)/proto/profile.pb-c.c
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) -O1 -g $(FUZZ_SAN) $(shell pkg-config --cflags libprotobuf-c) -c $< -o $@

$(FUZZ_OUT)/obj/user/profile/pprof.o $(FUZZ_OUT)/obj/user/profile/pprof_read.o \
	$(FUZZ_OUT)/obj/user/profile/diff.o: $(FUZZ_OUT)/proto/profile.pb-c.h

$(FUZZ_OUT)/proto/remote.pb-c.c $(FUZZ_OUT)/proto/remote.pb-c.h &: user/uplink/remote.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(FUZZ_OUT)/proto
	$(Q)protoc-c --proto_path=user/uplink --c_out=$(FUZZ_OUT)/proto remote.proto

$(FUZZ_OUT)/proto/remote.pb-c.o: $(FUZZ_OUT)/proto/remote.pb-c.c
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) -O1 -g $(FUZZ_SAN) $(shell pkg-config --cflags libprotobuf-c) -c $< -o $@

$(FUZZ_OUT)/obj/user/uplink/encode.o $(FUZZ_OUT)/obj/tests/fuzz/fuzz_uplink_segment.o: \
	$(FUZZ_OUT)/proto/remote.pb-c.h

define fuzz_target_rule
$(FUZZ_OUT)/fuzz_$(1): $(call fuzz_obj,tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1))) $(FUZZ_GEN_$(1))
	$$(call msg,FUZZLD,$$@)
	$$(Q)$$(FUZZ_CC) $$(FUZZ_SAN) $$^ $$(FUZZ_LDFLAGS_$(1)) $$(PKG_LIBS) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target_rule,$(t))))

fuzz-build: $(FUZZ_BINS)

# Runs every target even when one fails; fails at the end naming the crashers.
fuzz: fuzz-build
	$(Q)FUZZ_OUT=$(FUZZ_OUT) bash tests/fuzz/run.sh $(FUZZ_SECONDS) "$(FUZZ_RUN_FLAGS)" \
		$(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	$(Q)FUZZ_OUT=$(FUZZ_OUT) FUZZ_REPLAY=1 bash tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) \
		"$(FUZZ_RUN_FLAGS)" $(FUZZ_TARGETS)

.DEFAULT_GOAL := $(fuzz_saved_goal)

-include $(shell find $(FUZZ_OUT)/obj -name '*.d' 2>/dev/null)
