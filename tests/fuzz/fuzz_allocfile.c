// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allocation sampler's shared file (user/profile/allocfile.h), which the
 * profiled process writes: fog_alloc_snap__parse on a file of the right size
 * whose header, stack slots and live slots come from the input, then the
 * memory profiles fogd builds from it (fog_alloc_build, inuse and alloc views,
 * alone and against a second copy as the start) and their summary JSON.
 *
 * Input: operations, each an op byte then its operands:
 *   0: header bytes at an offset (u16) from the next length (u8) bytes;
 *   1: one stack slot (u16 index) from the next sizeof(stack) bytes;
 *   2: one live slot (u16 index) from the next sizeof(live) bytes;
 *   3: take the file as it is now as the start copy (later ops make the end).
 * The magic, version and capacities stay valid unless an op overwrites them.
 * Properties: a refused file is -EPROTO with a message; an accepted one has
 * every count within its table (nstacks, ngrowth, depths, live stack
 * indices); the profiles build (0) and their figures never exceed what the
 * file says; the summary serialises.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "fuzz.h"
#include "profile/alloc.h"
#include "profile/elfsym.h"

#define PID 4194303	/* no such process: frames stay unresolved */

static char *file;
static struct fog_elfcache *cache;

static struct fog_alloc_header *hdr(void)
{
	return (struct fog_alloc_header *)file;
}

static struct fog_alloc_stack *stacks(void)
{
	return (struct fog_alloc_stack *)(file + FOG_ALLOC_HEADER_SIZE);
}

static struct fog_alloc_live *lives(void)
{
	return (struct fog_alloc_live *)(file + FOG_ALLOC_HEADER_SIZE +
					 FOG_ALLOC_STACKS * sizeof(struct fog_alloc_stack));
}

static void reset(void)
{
	memset(file, 0, FOG_ALLOC_FILE_SIZE);
	*hdr() = (struct fog_alloc_header){
		.magic = FOG_ALLOC_MAGIC, .version = FOG_ALLOC_VERSION,
		.header_size = FOG_ALLOC_HEADER_SIZE, .pid = 1, .depth = FOG_ALLOC_DEPTH,
		.stacks_cap = FOG_ALLOC_STACKS, .live_cap = FOG_ALLOC_LIVE, .start_time = 7,
		.mean = FOG_ALLOC_MEAN, .nstacks = 1,
	};
}

static void put(void *dst, size_t len, struct fuzz_in *in)
{
	size_t n = len < in->n ? len : in->n;

	memcpy(dst, in->p, n);
	in->p += n;
	in->n -= n;
}

static struct fog_alloc_snap *parse(void)
{
	char err[256] = "";
	struct fog_alloc_snap *s = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, PID, err,
							 sizeof(err));

	if (!s) {
		FUZZ_CHECK(errno == EPROTO);
		FUZZ_CHECK(err[0]);
		return NULL;
	}
	FUZZ_CHECK(s->hdr.nstacks <= FOG_ALLOC_STACKS && s->hdr.ngrowth <= FOG_ALLOC_GROWTH);
	FUZZ_CHECK(s->hdr.mean > 0);
	for (size_t i = 0; i < FOG_ALLOC_STACKS; i++)
		FUZZ_CHECK(s->stacks[i].depth <= FOG_ALLOC_DEPTH);
	for (size_t i = 0; i < FOG_ALLOC_LIVE; i++)
		FUZZ_CHECK(s->live[i].ptr <= 1 || s->live[i].stack < FOG_ALLOC_STACKS);
	return s;
}

static void build(const struct fog_alloc_snap *end, const struct fog_alloc_snap *start,
		  enum fog_prof_kind kind)
{
	struct fog_symbolizer *sym = fog_symbolizer__new(cache);
	struct fog_prof *p = fog_prof__new(kind);
	json_t *j;
	char *out;

	FUZZ_CHECK(sym && p);
	FUZZ_CHECK(fog_alloc_build(end, start, sym, p) == 0);
	FUZZ_CHECK(p->nleaks <= 20);
	for (size_t i = 0; i < p->nleaks; i++)
		FUZZ_CHECK(p->leaks[i].func && p->leaks[i].stack);
	for (size_t i = 0; i < p->ngrowth; i++)
		FUZZ_CHECK(p->growth[i].t_s <= 0);
	FUZZ_CHECK(p->ngrowth <= FOG_ALLOC_GROWTH + 1);
	j = fog_prof_summary_json(p, 10);
	FUZZ_CHECK(j);
	out = json_dumps(j, 0);
	FUZZ_CHECK(out);
	free(out);
	json_decref(j);
	fog_prof__free(p);
	fog_symbolizer__free(sym);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fog_log_set_level(FOG_LOG_ERROR);
	file = mmap(NULL, FOG_ALLOC_FILE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FUZZ_CHECK(file != MAP_FAILED);
	cache = fog_elfcache__new(4);
	FUZZ_CHECK(cache);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct fog_alloc_snap *start = NULL, *end;

	reset();
	while (in.n) {
		uint8_t op = fuzz_u8(&in);
		unsigned int off, len, i;

		switch (op % 4) {
		case 0:
			off = fuzz_u32(&in) % FOG_ALLOC_HEADER_SIZE;
			len = fuzz_u8(&in);
			if (off + len > FOG_ALLOC_HEADER_SIZE)
				len = FOG_ALLOC_HEADER_SIZE - off;
			put(file + off, len, &in);
			break;
		case 1:
			i = (unsigned int)fuzz_bytes_u64(&in, 2) % FOG_ALLOC_STACKS;
			put(&stacks()[i], sizeof(struct fog_alloc_stack), &in);
			break;
		case 2:
			i = (unsigned int)fuzz_bytes_u64(&in, 2) % FOG_ALLOC_LIVE;
			put(&lives()[i], sizeof(struct fog_alloc_live), &in);
			break;
		default:
			if (!start)
				start = parse();
			break;
		}
	}
	end = parse();
	if (end) {
		build(end, NULL, FOG_PROF_INUSE);
		build(end, start, FOG_PROF_INUSE);
		build(end, start, FOG_PROF_ALLOC);
	}
	fog_alloc_snap__free(end);
	fog_alloc_snap__free(start);
	return 0;
}
