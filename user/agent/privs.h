/* SPDX-License-Identifier: GPL-2.0-only */
/* What fogd needs from the host before it loads anything: capabilities and mounts. */
#ifndef FOG_PRIVS_H
#define FOG_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Checks the effective capabilities fogd needs; on a miss returns -EPERM and
 * writes which ones are missing into msg.
 */
int fog_privs_check(char *msg, size_t len);
/*
 * After set-up: keeps only the capabilities a later reload, profile attach or
 * task launch needs (also in the bounding set) and drops the rest.
 */
int fog_privs_drop(void);
/* Names of this process's effective capabilities, comma-separated, into buf. */
void fog_privs_describe(char *buf, size_t len);

/* Mounts bpffs on /sys/fs/bpf and tracefs on /sys/kernel/tracing when missing. */
int fog_mounts_ensure(void);
/* Creates dir (0700) for pins and removes pins a previous fogd left behind. */
int fog_pins_prepare(const char *dir);
/* Removes dir if it is empty. */
void fog_pins_cleanup(const char *dir);

#endif /* FOG_PRIVS_H */
