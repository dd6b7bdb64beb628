/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython processes of a capture (issue 14): finds processes running CPython
 * 3.11, tells the sampler where their interpreter is (prof_python,
 * include/fog/abi/python.h) and names the interpreter frames their samples
 * carry. Run by the unwinder thread (unwinder.c), never the event loop.
 *
 * A process is one when it maps a file named python* or libpython* whose
 * symbols (read by the symbol helper) have _PyRuntime, PyCode_Type and
 * Py_Version, Py_Version says 3.11 and _PyRuntime's first interpreter points
 * back to it in the process's memory. Code objects are read from its memory
 * with process_vm_readv, bounded (pyframes.h), cached per (process, code
 * object) and interned per (process, code object, line) as frame ids.
 */
#ifndef FOG_PROF_PYPROC_H
#define FOG_PROF_PYPROC_H

#include <stdbool.h>
#include <linux/types.h>

#include "fog/abi/python.h"

#define FOG_PYPROC_ENTRY (1u << 31)	/* in a frame id: the frame its eval call entered with */
#define FOG_PYPROC_UNREADABLE 0	/* the id of a frame whose code object could not be read */

struct fog_pyproc;

struct fog_pyproc_stats {
	__u64 procs;	/* CPython processes found and given to the sampler */
	__u64 frames;	/* interpreter frames named */
	__u64 unreadable;	/* frames whose code object could not be read */
};

/* Fills the prof_python map map_fd. NULL and errno on failure. */
struct fog_pyproc *fog_pyproc__new(int map_fd);
void fog_pyproc__free(struct fog_pyproc *p);
/* pid was sampled: looks at it when it was not looked at lately. */
void fog_pyproc__seen(struct fog_pyproc *p, __u32 pid);
/*
 * The frame ids (FOG_PYPROC_ENTRY set where bit i of entry is) of n frames
 * of pid, innermost first, into ids; returns n.
 */
__u32 fog_pyproc__frames(struct fog_pyproc *p, __u32 pid, const struct fog_py_frame *f,
			 __u64 entry, __u32 n, __u32 *ids);
/* The name of frame id ("py:func (file.py:12)") and its file (or NULL); NULL for no such id. */
const char *fog_pyproc__name(const struct fog_pyproc *p, __u32 id, const char **file);
/* Forgets the names and code objects (not the processes): a new window. */
void fog_pyproc__reset(struct fog_pyproc *p);
void fog_pyproc__stats(const struct fog_pyproc *p, struct fog_pyproc_stats *st);

#endif /* FOG_PROF_PYPROC_H */
