// SPDX-License-Identifier: GPL-2.0-only
/*
 * For fuzz_ring.c, which links user/profile/continuous.c without the modules
 * its sampling half needs (no header here: these only satisfy the linker).
 */
#include <stdlib.h>

/*
 * continuous.c's sampling half (capture, symbolizer, pprof, HTTP routes,
 * metrics, timers) is not reached from the ring: stood in for, never called.
 */
#define NOT_REACHED(name)                                                                          \
	void name(void);                                                                           \
	void name(void)                                                                            \
	{                                                                                          \
		abort();                                                                           \
	}
NOT_REACHED(fog_elfcache__free)
NOT_REACHED(fog_elfcache__new)
NOT_REACHED(fog_http__route)
NOT_REACHED(fog_http_error)
NOT_REACHED(fog_http_json)
NOT_REACHED(fog_loop__add_timer)
NOT_REACHED(fog_loop__del_timer)
NOT_REACHED(fog_metrics_add)
NOT_REACHED(fog_prof__free)
NOT_REACHED(fog_prof__new)
NOT_REACHED(fog_prof_capture__build)
NOT_REACHED(fog_prof_capture__free)
NOT_REACHED(fog_prof_capture__new)
NOT_REACHED(fog_prof_capture__pids)
NOT_REACHED(fog_prof_capture__restart)
NOT_REACHED(fog_prof_capture__stop)
NOT_REACHED(fog_prof_pprof)
NOT_REACHED(fog_prom__family)
NOT_REACHED(fog_prom__sample)
NOT_REACHED(fog_symbolizer__add_pid)
NOT_REACHED(fog_symbolizer__free)
NOT_REACHED(fog_symbolizer__new)
NOT_REACHED(fog_symbolizer__prune)
NOT_REACHED(fog_symerr_count)
NOT_REACHED(fog_symerr_name)
NOT_REACHED(fog_alloc_err_count)
NOT_REACHED(fog_alloc_err_name)

