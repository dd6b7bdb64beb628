/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading pprof files (profile.proto, gzip-compressed or not) as fogd and other
 * tools write them. The file is untrusted input: its size, the inflated size and
 * the memory protobuf-c may allocate are bounded, every string, location,
 * function and mapping index is checked before use, and a bad file is refused
 * with a reason. The decoded message turns into the profile model with stacks
 * by function names, so two profiles can be compared.
 */
#ifndef FOG_PROF_PPROF_READ_H
#define FOG_PROF_PPROF_READ_H

#include <stddef.h>

#include "profile/prof.h"

#define FOG_PPROF_FILE_MAX (64u << 20)	/* bytes of a file, compressed or not */
#define FOG_PPROF_RAW_MAX (64u << 20)	/* bytes of the message once inflated */
#define FOG_PPROF_ALLOC_MAX (512u << 20)	/* what decoding the message may allocate */
#define FOG_PPROF_DEPTH_MAX 1024	/* frames kept per stack (leaf first) */
#define FOG_PPROF_FRAMES_MAX (4u << 20)	/* frames over all samples */
#define FOG_PPROF_NAMES_MAX (256u << 20)	/* bytes of distinct frames' names and modules,
						 * and of a diff's stack names */

struct fog_pprof;
struct Fogpprof__Profile;

/*
 * Decodes buf: a gzip stream or a bare profile.proto message. NULL on failure,
 * with errno set and what is wrong written into err (errlen bytes).
 */
struct fog_pprof *fog_pprof__decode(const void *buf, size_t len, char *err, size_t errlen);
/* Reads a regular file of at most FOG_PPROF_FILE_MAX bytes and decodes it; as above. */
struct fog_pprof *fog_pprof__read_file(const char *path, char *err, size_t errlen);
void fog_pprof__free(struct fog_pprof *pp);

/* The decoded, checked message (borrowed). */
const struct Fogpprof__Profile *fog_pprof_message(const struct fog_pprof *pp);
/*
 * The index of the sample value named type ("cpu", "samples", "alloc_space"...), or
 * with type NULL the one the file prefers (default_sample_type, else the last,
 * as pprof picks); -ENOENT when there is no such type.
 */
int fog_pprof_sample_index(const struct fog_pprof *pp, const char *type);
/* How many values each sample has (one per sample type, at least 1). */
size_t fog_pprof_sample_types(const struct fog_pprof *pp);
/* The name and unit of sample value idx (valid indices only). */
const char *fog_pprof_sample_type(const struct fog_pprof *pp, int idx, const char **unit);

/*
 * The profile model of value idx: frames by (function name, module), address 0, so
 * stacks that differ only in addresses merge; the stack's root is its "comm"
 * label, else the profile's first mapping's file name. Lines of a location are
 * inline frames (innermost first); a location without lines is named by its
 * module and offset. NULL on failure with errno set and err filled.
 */
struct fog_prof *fog_pprof_to_prof(const struct fog_pprof *pp, int idx, char *err, size_t errlen);

/* gzip-compresses len bytes into a malloc'd *out (user/profile/pprof.c); 0 or -errno. */
int fog_pprof_gzip(const void *in, size_t len, void **out, size_t *out_len);

#endif /* FOG_PROF_PPROF_READ_H */
