/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Naming CPython 3.11 interpreter frames (issue 14): the code objects the
 * sampler recorded (include/fog/abi/python.h) read from the process's memory
 * through a bounded read callback, their qualified name, file and the line of
 * the frame's last instruction from the code object's location table (PEP
 * 657, CPython's Objects/locations.md), and the merge of those frames into the
 * native stack in place of the _PyEval_EvalFrameDefault calls that run them,
 * as py-spy and the OpenTelemetry profiler show them.
 *
 * Every byte read is the tenant's: sizes are bounded before anything is
 * allocated, strings are cut, a table that ends early or lies stops the
 * decoder. Core code: no I/O of its own (pyproc.c reads the memory).
 */
#ifndef FOG_PROF_PYFRAMES_H
#define FOG_PROF_PYFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* CPython 3.11 object layouts (x86_64, release builds: Debian's and python.org's) */
#define FOG_PY311_OB_TYPE 8	/* PyObject.ob_type */
#define FOG_PY311_OB_SIZE 16	/* PyVarObject.ob_size */
#define FOG_PY311_CO_FIRSTLINENO 72
#define FOG_PY311_CO_FILENAME 112
#define FOG_PY311_CO_NAME 120
#define FOG_PY311_CO_QUALNAME 128
#define FOG_PY311_CO_LINETABLE 136
#define FOG_PY311_CO_CODE 184	/* co_code_adaptive: the instructions, 2 bytes each */
#define FOG_PY311_BYTES_DATA 32	/* PyBytesObject.ob_sval */
#define FOG_PY311_STR_STATE 32	/* PyASCIIObject.state */
#define FOG_PY311_STR_ASCII_DATA 48	/* sizeof(PyASCIIObject) */
#define FOG_PY311_STR_COMPACT_DATA 72	/* sizeof(PyCompactUnicodeObject) */

#define FOG_PY_NAME_MAX 128	/* bytes of a qualified name kept (UTF-8) */
#define FOG_PY_FILE_MAX 512	/* bytes of a file name kept */
#define FOG_PY_LINETABLE_MAX 65536	/* a longer location table is not read */
#define FOG_PY_CODE_UNITS_MAX (1u << 22)	/* a larger code object is refused */

/* Reads len bytes at addr of the process into buf, all or nothing: 0 or a negative errno. */
typedef int (*fog_py_read_fn)(void *ctx, __u64 addr, void *buf, size_t len);

/* What a code object says, read once and kept per (process, code object). */
struct fog_py_code {
	char qualname[FOG_PY_NAME_MAX];
	char filename[FOG_PY_FILE_MAX];
	__s32 firstlineno;
	__u32 ncode;	/* code units (2 bytes each) of the instructions */
	__u8 *linetable;	/* malloc'd, linetable_len bytes */
	__u32 linetable_len;
};

/*
 * Reads the code object at code: its type must be code_type (when not 0), its
 * sizes in bounds, its names strings; out->linetable is malloc'd (free it with
 * fog_py_code_clear). 0, -EINVAL for what is no code object, or the read's error.
 */
int fog_py_code_read(fog_py_read_fn rd, void *ctx, __u64 code, __u64 code_type,
		     struct fog_py_code *out);
void fog_py_code_clear(struct fog_py_code *c);

/*
 * The line of the instruction at byte offset addr of a code object from its
 * 3.11 location table (firstlineno: the code object's co_firstlineno); the
 * first line for an offset before the first instruction (a frame not started),
 * 0 when the table gives none or ends first.
 */
__u32 fog_py_line(const __u8 *tab, size_t len, __s32 firstlineno, long addr);

/* The line of a frame whose last instruction is instr (prev_instr), code at code. */
__u32 fog_py_code_line(const struct fog_py_code *c, __u64 code, __u64 instr);

/* "py:qualname (file.py:12)" (the file's base name; no line when 0) into buf; its length. */
size_t fog_py_frame_name(char *buf, size_t cap, const char *qualname, const char *filename,
			 __u32 line);

/*
 * Merges interpreter frames into a native stack, both innermost first: each
 * native frame with is_eval set (a _PyEval_EvalFrameDefault call) is replaced
 * by the interpreter frames it runs, the next ones up to and including the
 * next with entry set (the frame the call was entered with). An eval frame
 * left without interpreter frames stays; interpreter frames left over after
 * the last eval frame are dropped (the native stack was cut). Writes at most
 * max frame ids to out; returns how many.
 */
size_t fog_py_merge(const __u32 *native, const bool *is_eval, size_t n, const __u32 *py,
		    const bool *entry, size_t m, __u32 *out, size_t max);

#endif /* FOG_PROF_PYFRAMES_H */
