# SPDX-License-Identifier: GPL-2.0-only
# The two layers, included by the Makefile after its variables (OUTPUT) and before its rules.
#
#   base      user/base/: log, loop, heap, text, sort, clock, histograms, the exposition
#             writer, procfs and cgroupfs readers, safe opens, the HTTP client, the child's
#             privilege drop. Includes nothing else under user/.
#   cores     user/mem, user/monitor, user/sched, user/profile minus the files below: the
#             library's parts. Each includes include/fog/*.h, base and its own folder only.
#   capture   the profiler's BPF side (libbpf, skeletons): the library's profiling API.
#   glue      the files that wire a core into the daemon: the only part files that may
#             include collect/, export/ or agent/.
#   daemon    user/agent (configuration, capabilities), user/collect, user/export, and
#             user/fogd (main): everything above the library.
#
# libfog.a     = base + cores (+ the generated pprof code): fog.pc
# libfogprof.a = capture: fog-profiler.pc (requires fog and libbpf)
# fogd         = daemon + glue + both libraries
# `make check-layers` (part of `make test`) keeps the shape: tools/check-layers.sh.

LAYER_GLUE := user/monitor/watch.c user/sched/api.c user/sched/api_runner.c \
	user/sched/extender_glue.c user/profile/server.c user/profile/server_output.c \
	user/profile/server_int.h user/profile/continuous.c user/profile/alert_capture.c \
	user/sched/api_int.h user/sched/api_interference.c
LAYER_CAPTURE := user/profile/capture.c user/profile/session.c user/profile/run.c \
	user/profile/unwinder.c user/profile/pyproc.c \
	user/profile/uprobe.c user/profile/uprobe_cost.c user/profile/uprobe_tables.c \
	user/profile/uprobe_int.h
LAYER_CORE_DIRS := mem monitor sched profile
LAYER_DAEMON_DIRS := agent collect export uplink fogd

BASE_SRCS := $(wildcard user/base/*.c)
CORE_SRCS := $(filter-out $(LAYER_GLUE) $(LAYER_CAPTURE),\
	$(foreach d,$(LAYER_CORE_DIRS),$(wildcard user/$(d)/*.c)))
DAEMON_SRCS := $(filter-out user/fogd/main.c,\
	$(LAYER_GLUE) $(foreach d,$(LAYER_DAEMON_DIRS),$(wildcard user/$(d)/*.c)))

.PHONY: check-layers
check-layers: $(LIBFOG) $(LIBFOGPROF)
	$(Q)LAYER_GLUE="$(LAYER_GLUE)" LAYER_CAPTURE="$(LAYER_CAPTURE)" \
		LAYER_CORE_DIRS="$(LAYER_CORE_DIRS)" LAYER_DAEMON_DIRS="$(LAYER_DAEMON_DIRS)" \
		LIBFOG="$(LIBFOG)" LIBFOGPROF="$(LIBFOGPROF)" CC="$(CC)" LDFLAGS="$(LDFLAGS)" \
		FOG_LIBS="$(FOG_LIBS)" FOGPROF_LIBS="$(FOGPROF_LIBS)" \
		bash tools/check-layers.sh
