// SPDX-License-Identifier: GPL-2.0-only
/* libbpf's messages routed into fogd's log (apart, so libfog users need no libbpf). */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "base/log.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum fog_log_level ours = level == LIBBPF_WARN ? FOG_LOG_WARN :
				  level == LIBBPF_INFO ? FOG_LOG_DEBUG : FOG_LOG_DEBUG + 1;
	char msg[1024];
	size_t n;

	if (ours > fog_log_get_level())
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (n)
		fog_log(ours > FOG_LOG_DEBUG ? FOG_LOG_DEBUG : ours, "libbpf: %s", msg);
	return 0;
}

void fog_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
