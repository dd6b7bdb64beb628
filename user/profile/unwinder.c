// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogd's half of the unwinder (unwind.h): the thread that drains the copied
 * stacks, groups them by process, opens each process's mapped files safely,
 * sends batches to the helper (or unwinds them here when no helper runs) and
 * counts the answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include <gelf.h>

#include "base/clock.h"
#include "base/safe_open.h"
#include "profile/pyproc.h"
#include "profile/symbolize.h"
#include "profile/unwinder.h"

#define POLL_MS 100
#define BATCH_AGE_NS (1000ull * 1000000ull)	/* unwind what waited this long */
#define MAX_PENDING 4096	/* copies held before unwinding (about 66 MiB) */
#define MAX_BLOCKS 65536	/* off-CPU blocks waiting for their wake-up */
#define HASH_BITS 17	/* stack table slots: twice FOG_UNW_MAX_STACKS */
#define BLOCK_BITS 17
#define NPROCS 16	/* processes whose files are kept open between batches */
#define PROC_TTL_NS (2000ull * 1000000ull)	/* their maps are read again after this */

struct pending {
	__u32 kind, tgid, tid;
	__s32 kern_stack_id;
	__u64 seq, value;
	char comm[FOG_COMM_LEN];
	__u32 py_n;
	__u64 py_entry;
	struct fog_py_frame py[FOG_PY_MAX_FRAMES];
	struct fog_unw_req_sample s;
	__u8 stack[];
};

struct mod {
	__u64 low, high;
	int fd;
};

/*
 * A process's executable files, opened when its first copy arrives: a process
 * that exits before its batch is unwound (a short one, or the last second of
 * any) still unwinds.
 */
struct proc_mods {
	__u32 pid;	/* 0: a free slot */
	int nmods;
	__u64 read_ns;
	__u64 used;
	struct mod mods[FOG_UNW_MAX_MODS];
};

struct block {
	__u32 tid;
	__s32 stack;	/* index in stacks, -1 while its stack waits to be unwound */
	__u64 seq;
	__u64 ns, count;	/* wake-ups that came before the stack was unwound */
	bool used;
};

struct fog_unwinder {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct ring_buffer *rb;
	bool quit;
	__u64 flush_req, flush_done;
	struct pending **pend;	/* copies read, waiting to be unwound */
	size_t npend;
	struct pending **work;	/* those being unwound (the ring is drained meanwhile) */
	__u64 first_ns;	/* when the oldest pending copy came */
	struct fog_unw_stack *stacks;
	size_t nstacks;
	__s32 *slots;	/* hash of stacks: index + 1, 0 empty */
	struct block *blocks;
	size_t nblocks;
	struct fog_unwinder_stats st;
	struct proc_mods procs[NPROCS];
	__u64 proc_tick;
	pthread_mutex_t pid_lock;	/* of pids alone: never held across a helper call */
	__u32 pids[256];	/* processes seen, for the symbolizer's snapshots */
	size_t npids;
	struct fog_pyproc *py;	/* CPython frames, or NULL */
	__u32 py_pid;	/* a process to look at before its first sample, or 0 */
};

static pthread_once_t vdso_once = PTHREAD_ONCE_INIT;
static int vdso_fd = -1;	/* a memfd with this kernel's vDSO image, the same in every process */

/* The vDSO fogd sees is the kernel's, mapped into every process: its CFI unwinds theirs. */
static void vdso_init(void)
{
	const char *base = (const char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const void *)base;
	size_t size = 0;
	int fd;

	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff + i * eh->e_phentsize);

		if (ph->p_type == PT_LOAD && ph->p_offset + ph->p_filesz > size)
			size = ph->p_offset + ph->p_filesz;
	}
	if (eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize > size)
		size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (!size || size > (1u << 20))
		return;
	fd = memfd_create("fogd-vdso", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, base, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	vdso_fd = fd;
}

/* ---- counting ---- */

static __u64 hash_stack(__u32 tgid, __s32 kid, const __u64 *ips, __u32 n, const __u32 *py,
			__u32 npy)
{
	__u64 h = 1469598103934665603ull ^ tgid ^ ((__u64)(__u32)kid << 32);

	for (__u32 i = 0; i < n; i++)
		h = (h ^ ips[i]) * 1099511628211ull;
	for (__u32 i = 0; i < npy; i++)
		h = (h ^ py[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

/* The index of the stack, added when new; -1 when the table is full. */
static long stack_index(struct fog_unwinder *u, const struct pending *p, const __u64 *ips, __u32 n,
			const __u32 *py, __u32 npy)
{
	size_t mask = (1u << HASH_BITS) - 1;
	size_t i = hash_stack(p->tgid, p->kern_stack_id, ips, n, py, npy) & mask;

	for (;; i = (i + 1) & mask) {
		struct fog_unw_stack *s;

		if (!u->slots[i]) {
			if (u->nstacks == FOG_UNW_MAX_STACKS)
				return -1;
			s = &u->stacks[u->nstacks];
			memset(s, 0, offsetof(struct fog_unw_stack, ips));
			s->tgid = p->tgid;
			s->kern_stack_id = p->kern_stack_id;
			s->nips = n;
			memcpy(s->comm, p->comm, FOG_COMM_LEN);
			s->comm[FOG_COMM_LEN - 1] = '\0';
			memcpy(s->ips, ips, n * sizeof(*ips));
			s->npy = npy;
			memcpy(s->py, py, npy * sizeof(*py));
			u->slots[i] = (__s32)++u->nstacks;
			return (long)u->nstacks - 1;
		}
		s = &u->stacks[u->slots[i] - 1];
		if (s->tgid == p->tgid && s->kern_stack_id == p->kern_stack_id && s->nips == n &&
		    !memcmp(s->ips, ips, n * sizeof(*ips)) && s->npy == npy &&
		    !memcmp(s->py, py, npy * sizeof(*py)))
			return u->slots[i] - 1;
	}
}

static struct block *find_block(struct fog_unwinder *u, __u32 tid, __u64 seq, bool add)
{
	size_t mask = (1u << BLOCK_BITS) - 1;
	size_t i = ((seq ^ ((__u64)tid << 40)) * 11400714819323198485ull) >> (64 - BLOCK_BITS);

	for (size_t probes = 0; probes <= mask; probes++, i = (i + 1) & mask) {
		struct block *b = &u->blocks[i];

		if (!b->used) {
			if (!add || u->nblocks >= MAX_BLOCKS)
				return NULL;
			*b = (struct block){ .tid = tid, .seq = seq, .stack = -1, .used = true };
			u->nblocks++;
			return b;
		}
		if (b->tid == tid && b->seq == seq)
			return b;
	}
	return NULL;
}

/* Removes b, moving later entries of its run back (linear probing). */
static void drop_block(struct fog_unwinder *u, struct block *b)
{
	size_t mask = (1u << BLOCK_BITS) - 1;
	size_t i = (size_t)(b - u->blocks), j = i;

	u->blocks[i].used = false;
	u->nblocks--;
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!u->blocks[j].used)
			return;
		k = ((u->blocks[j].seq ^ ((__u64)u->blocks[j].tid << 40)) *
		     11400714819323198485ull) >> (64 - BLOCK_BITS);
		/* move j to i when its home k is not cyclically in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		u->blocks[i] = u->blocks[j];
		u->blocks[j].used = false;
		i = j;
	}
}

static void add_value(struct fog_unwinder *u, long si, __u64 value, __u64 count)
{
	u->stacks[si].value += value;
	u->stacks[si].count += count;
}

/* The unwound frames of one pending copy. */
static void count_frames(struct fog_unwinder *u, struct pending *p, const __u64 *ips, __u32 n)
{
	__u32 py[FOG_PY_MAX_FRAMES], npy;
	long si;
	struct block *b;

	u->st.frames += n;
	if (n > 1)
		u->st.unwound++;
	npy = fog_pyproc__frames(u->py, p->tgid, p->py, p->py_entry, p->py_n, py);
	si = stack_index(u, p, ips, n, py, npy);
	if (si < 0) {
		u->st.lost++;
		return;
	}
	if (p->kind == FOG_UNW_CPU) {
		add_value(u, si, p->value, 1);
		return;
	}
	b = find_block(u, p->tid, p->seq, false);
	if (!b)
		return;
	if (p->kind == FOG_UNW_ALLOC) {	/* looked up by its event (fog_unwinder__find) */
		b->stack = (__s32)si;
		return;
	}
	if (b->count) {	/* it came back before its stack was unwound */
		add_value(u, si, b->ns, b->count);
		drop_block(u, b);
		return;
	}
	b->stack = (__s32)si;
}

/* ---- a batch ---- */

struct mods_ctx {
	__u32 pid;
	struct mod *mods;
	int n, max, cur;
	char prev[FOG_MAPS_LINE_MAX];
};

/* One mapping: a new file starts a module, its next mappings extend it. */
static int add_mod(const struct fog_map_line *m, void *arg)
{
	struct mods_ctx *c = arg;
	bool vdso = !strcmp(m->path, "[vdso]") && vdso_fd >= 0;
	char path[96];
	struct mod *md;

	if (vdso || m->path[0] != '/') {
		if (vdso && c->n < c->max)
			c->mods[c->n++] = (struct mod){ m->start, m->end, -2 };
		c->cur = -1;
		c->prev[0] = '\0';
		return 0;
	}
	if (c->cur < 0 || strcmp(c->prev, m->path)) {
		if (c->n == c->max)
			return 1;
		snprintf(c->prev, sizeof(c->prev), "%s", m->path);
		c->cur = c->n++;
		c->mods[c->cur] = (struct mod){
			m->start > m->pgoff ? m->start - m->pgoff : m->start, m->end, -1 };
	}
	md = &c->mods[c->cur];
	md->high = m->end;
	if (m->exec && md->fd == -1) {
		snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", c->pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		md->fd = fog_safe_open_proc(path, 0);
		if (md->fd == -ENOENT || md->fd == -EPERM)
			md->fd = fog_safe_open_in_root((pid_t)c->pid, m->path, 0);
		if (md->fd < 0)
			md->fd = -3;	/* unreadable: left out */
	}
	return 0;
}

/*
 * The ELF files pid maps executable, each with where its offset 0 is and where
 * its last mapping ends, opened through map_files (else inside its root).
 */
static int read_mods(__u32 pid, struct mod *mods, int max)
{
	struct mods_ctx c = { .pid = pid, .mods = mods, .max = max, .cur = -1 };
	int w = 0;

	if (fog_maps_walk(pid, add_mod, &c, NULL) < 0)
		return 0;
	/* keep the files with an executable mapping that opened */
	for (int i = 0; i < c.n; i++) {
		if (mods[i].fd == -2)
			mods[i].fd = vdso_fd;
		else if (mods[i].fd < 0)
			continue;
		mods[w++] = mods[i];
	}
	return w;
}

static void close_mods(struct mod *mods, int n)
{
	for (int i = 0; i < n; i++)
		if (mods[i].fd != vdso_fd)
			close(mods[i].fd);
}

static void proc_drop(struct proc_mods *p)
{
	close_mods(p->mods, p->nmods);
	p->pid = 0;
	p->nmods = 0;
}

/*
 * The kept files of pid, read now when it has none or they are old (and it
 * still runs); NULL when nothing of it can be read.
 */
static struct proc_mods *proc_get(struct fog_unwinder *u, __u32 pid)
{
	struct proc_mods *p = NULL, *victim = &u->procs[0];
	__u64 now = fog_now_ns();

	u->proc_tick++;
	for (int i = 0; i < NPROCS; i++) {
		if (u->procs[i].pid == pid) {
			p = &u->procs[i];
			break;
		}
		if (!u->procs[i].pid || u->procs[i].used < victim->used)
			victim = &u->procs[i];
	}
	if (p && now - p->read_ns < PROC_TTL_NS) {
		p->used = u->proc_tick;
		return p;
	}
	if (p) {	/* old: read again, unless it has gone (its files stay then) */
		struct mod fresh[FOG_UNW_MAX_MODS];
		int n = read_mods(pid, fresh, FOG_UNW_MAX_MODS);

		if (n > 0) {
			close_mods(p->mods, p->nmods);
			memcpy(p->mods, fresh, (size_t)n * sizeof(fresh[0]));
			p->nmods = n;
		}
		p->read_ns = now;
		p->used = u->proc_tick;
		return p;
	}
	if (victim->pid)
		proc_drop(victim);
	victim->nmods = read_mods(pid, victim->mods, FOG_UNW_MAX_MODS);
	if (victim->nmods <= 0) {
		victim->nmods = 0;
		return NULL;
	}
	victim->pid = pid;
	victim->read_ns = now;
	victim->used = u->proc_tick;
	return victim;
}

struct reply_ctx {
	struct fog_unwinder *u;
	struct pending **v;
};

static void reply_frames(void *ctx, __u32 i, const __u64 *ips, __u32 n)
{
	struct reply_ctx *r = ctx;

	count_frames(r->u, r->v[i], ips, n);
}

/* Unwinds n pending copies of one process; frees them. */
static void unwind_batch(struct fog_unwinder *u, struct pending **v, size_t n)
{
	struct proc_mods *pm = proc_get(u, v[0]->tgid);
	const struct mod *mods = pm ? pm->mods : NULL;
	int fds[FOG_UNW_MAX_MODS], nmods = pm ? pm->nmods : 0;
	struct reply_ctx rc = { u, v };
	char *req = NULL, *rep = NULL;
	size_t len = sizeof(struct fog_unw_req_hdr), rlen = 0, pos;
	int err;

	len += (size_t)nmods * sizeof(struct fog_unw_req_mod);
	for (size_t i = 0; i < n; i++)
		len += sizeof(struct fog_unw_req_sample) + ((v[i]->s.stack_len + 7u) & ~7u);
	req = calloc(1, len);
	err = req ? 0 : -ENOMEM;
	if (!err) {
		struct fog_unw_req_hdr h = { FOG_UNW_REQ_MAGIC, (__u32)nmods, (__u32)n, 0 };

		memcpy(req, &h, sizeof(h));
		pos = sizeof(h);
		for (int i = 0; i < nmods; i++) {
			struct fog_unw_req_mod m = { mods[i].low, mods[i].high };

			memcpy(req + pos, &m, sizeof(m));
			pos += sizeof(m);
			fds[i] = mods[i].fd;
		}
		for (size_t i = 0; i < n; i++) {
			memcpy(req + pos, &v[i]->s, sizeof(v[i]->s));
			pos += sizeof(v[i]->s);
			memcpy(req + pos, v[i]->stack, v[i]->s.stack_len);
			pos += (v[i]->s.stack_len + 7u) & ~7u;
		}
		u->st.batches++;
		fog_unwind_remote_fn remote = fog_unwind_remote();

		if (remote)
			err = remote(req, len, fds, nmods, &rep, &rlen);
		else
			err = fog_unwind__serve(req, len, fds, nmods, &rep, &rlen);
		if (!err)
			err = fog_unwind__parse_reply(rep, rlen, (__u32)n, reply_frames, &rc);
	}
	if (err) {
		/* the leaf alone, so the samples still count: symbolized as usual */
		u->st.failed += n;
		for (size_t i = 0; i < n; i++)
			count_frames(u, v[i], &v[i]->s.regs[FOG_UNW_REG_IP], 1);
	}
	free(req);
	free(rep);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

static int cmp_pending(const void *a, const void *b)
{
	const struct pending *x = *(struct pending *const *)a, *y = *(struct pending *const *)b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

/*
 * Unwinds every pending copy, a process at a time. Called by the thread with
 * the lock held; between batches it drains the ring buffer without it, so a
 * slow helper answer does not fill the ring (new copies wait in pend).
 */
static void unwind_pending(struct fog_unwinder *u)
{
	struct pending **v = u->pend;
	size_t i = 0, n = u->npend;

	u->pend = u->work;
	u->work = v;
	u->npend = 0;
	qsort(v, n, sizeof(*v), cmp_pending);	/* the order inside a process does not matter */
	while (i < n) {
		size_t j = i + 1;

		while (j < n && j - i < FOG_UNW_BATCH && v[j]->tgid == v[i]->tgid)
			j++;
		unwind_batch(u, v + i, j - i);
		i = j;
		pthread_mutex_unlock(&u->lock);
		ring_buffer__consume(u->rb);
		pthread_mutex_lock(&u->lock);
	}
}

/* ---- the ring buffer ---- */

static void note_pid(struct fog_unwinder *u, __u32 pid)
{
	size_t i;

	pthread_mutex_lock(&u->pid_lock);
	for (i = 0; i < u->npids && u->pids[i] != pid; i++)
		;
	if (i == u->npids && i < sizeof(u->pids) / sizeof(u->pids[0]))
		u->pids[u->npids++] = pid;
	pthread_mutex_unlock(&u->pid_lock);
}

static int record(struct fog_unwinder *u, void *data, size_t size)
{
	__u32 kind;

	if (size < sizeof(kind))
		return 0;
	memcpy(&kind, data, sizeof(kind));
	if (kind == FOG_UNW_WAKE) {
		struct fog_unw_wake w;
		struct block *b;

		if (size < sizeof(w))
			return 0;
		memcpy(&w, data, sizeof(w));
		b = find_block(u, w.tid, w.seq, false);
		if (!b)
			return 0;
		if (b->stack >= 0) {
			add_value(u, b->stack, w.ns, 1);
			drop_block(u, b);
		} else {
			b->ns += w.ns;
			b->count++;
		}
		return 0;
	}
	{
		const struct fog_unw_sample *r = data;
		struct pending *p;
		__u32 sl;

		if (size < offsetof(struct fog_unw_sample, stack))
			return 0;
		sl = r->stack_len;
		if (sl > FOG_UNW_STACK_BYTES || size < offsetof(struct fog_unw_sample, stack) + sl)
			sl = 0;
		u->st.samples++;
		note_pid(u, r->tgid);
		if (u->py)	/* a CPython process is found by its first samples */
			fog_pyproc__seen(u->py, r->tgid);
		proc_get(u, r->tgid);	/* its files, while it runs */
		if (u->npend == MAX_PENDING) {	/* the helper is far behind */
			u->st.lost++;
			return 0;
		}
		p = malloc(sizeof(*p) + sl);
		if (!p) {
			u->st.lost++;
			return 0;
		}
		p->kind = r->kind;
		p->tgid = r->tgid;
		p->tid = r->tid;
		p->kern_stack_id = r->kern_stack_id;
		p->seq = r->seq;
		p->value = r->value;
		memcpy(p->comm, r->comm, FOG_COMM_LEN);
		p->py_n = r->py_n < FOG_PY_MAX_FRAMES ? r->py_n : FOG_PY_MAX_FRAMES;
		p->py_entry = r->py_entry;
		memcpy(p->py, r->py, p->py_n * sizeof(p->py[0]));
		memcpy(p->s.regs, r->regs, sizeof(p->s.regs));
		p->s.stack_len = sl;
		p->s.pad = 0;
		memcpy(p->stack, r->stack, sl);
		if ((p->kind == FOG_UNW_BLOCK || p->kind == FOG_UNW_ALLOC) && !find_block(u, p->tid, p->seq, true)) {
			u->st.lost++;
			free(p);
			return 0;
		}
		if (!u->npend)
			u->first_ns = fog_now_ns();
		u->pend[u->npend++] = p;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct fog_unwinder *u = ctx;
	int rc;

	pthread_mutex_lock(&u->lock);
	rc = record(u, data, size);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

static void *unwinder_thread(void *arg)
{
	struct fog_unwinder *u = arg;

	pthread_mutex_lock(&u->lock);
	while (!u->quit) {
		__u64 want = u->flush_req;

		pthread_mutex_unlock(&u->lock);
		/*
		 * records come without wake-ups (BPF_RB_NO_WAKEUP: one per sample would cost
		 * a context switch each), so epoll says nothing: wait, then read what is there
		 */
		if (want == u->flush_done)
			ring_buffer__poll(u->rb, POLL_MS);
		ring_buffer__consume(u->rb);
		pthread_mutex_lock(&u->lock);
		if (u->py_pid)	/* here, not in the caller: the event loop may be the caller */
			fog_pyproc__seen(u->py, u->py_pid);
		u->py_pid = 0;
		if (want != u->flush_done) {
			while (u->npend)	/* what came while the last batch was unwound too */
				unwind_pending(u);
			u->flush_done = want;
			pthread_cond_broadcast(&u->done);
		} else if (u->npend &&
			   (u->npend >= FOG_UNW_BATCH || fog_now_ns() - u->first_ns >= BATCH_AGE_NS)) {
			unwind_pending(u);
		}
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

struct fog_unwinder *fog_unwinder__new(int rb_fd)
{
	struct fog_unwinder *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return NULL;
	pthread_once(&vdso_once, vdso_init);
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->pid_lock, NULL);
	pthread_cond_init(&u->done, NULL);
	u->pend = calloc(MAX_PENDING, sizeof(*u->pend));
	u->work = calloc(MAX_PENDING, sizeof(*u->work));
	u->stacks = malloc(FOG_UNW_MAX_STACKS * sizeof(*u->stacks));
	u->slots = calloc(1u << HASH_BITS, sizeof(*u->slots));
	u->blocks = calloc(1u << BLOCK_BITS, sizeof(*u->blocks));
	if (!u->pend || !u->work || !u->stacks || !u->slots || !u->blocks) {
		err = -ENOMEM;
		goto fail;
	}
	u->rb = ring_buffer__new(rb_fd, on_record, u, NULL);
	if (!u->rb) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&u->thread, NULL, unwinder_thread, u);
	if (err)
		goto fail;
	return u;
fail:
	ring_buffer__free(u->rb);
	free(u->pend);
	free(u->work);
	free(u->stacks);
	free(u->slots);
	free(u->blocks);
	free(u);
	errno = -err;
	return NULL;
}

void fog_unwinder__free(struct fog_unwinder *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->quit = true;
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	ring_buffer__free(u->rb);
	for (int i = 0; i < NPROCS; i++)
		proc_drop(&u->procs[i]);
	fog_pyproc__free(u->py);
	for (size_t i = 0; i < u->npend; i++)
		free(u->pend[i]);
	free(u->pend);
	free(u->work);
	free(u->stacks);
	free(u->slots);
	free(u->blocks);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->pid_lock);
	pthread_cond_destroy(&u->done);
	free(u);
}

void fog_unwinder__flush(struct fog_unwinder *u)
{
	__u64 want;

	pthread_mutex_lock(&u->lock);
	want = ++u->flush_req;
	while (u->flush_done < want && !u->quit)
		pthread_cond_wait(&u->done, &u->lock);
	pthread_mutex_unlock(&u->lock);
}

void fog_unwinder__reset(struct fog_unwinder *u)
{
	fog_unwinder__flush(u);
	pthread_mutex_lock(&u->lock);
	u->nstacks = 0;
	memset(u->slots, 0, (1u << HASH_BITS) * sizeof(*u->slots));
	memset(u->blocks, 0, (1u << BLOCK_BITS) * sizeof(*u->blocks));
	u->nblocks = 0;
	memset(&u->st, 0, sizeof(u->st));
	for (int i = 0; i < NPROCS; i++)
		proc_drop(&u->procs[i]);
	fog_pyproc__reset(u->py);
	pthread_mutex_unlock(&u->lock);
	pthread_mutex_lock(&u->pid_lock);
	u->npids = 0;
	pthread_mutex_unlock(&u->pid_lock);
}

void fog_unwinder__add_blocked(struct fog_unwinder *u, __u32 tid, __u64 seq, __u64 ns)
{
	struct block *b;

	pthread_mutex_lock(&u->lock);
	b = find_block(u, tid, seq, false);
	if (b && b->stack >= 0) {
		add_value(u, b->stack, ns, 1);
		drop_block(u, b);
	}
	pthread_mutex_unlock(&u->lock);
}

const struct fog_unw_stack *fog_unwinder__find(struct fog_unwinder *u, __u32 tid, __u64 seq)
{
	const struct fog_unw_stack *s = NULL;
	struct block *b;

	pthread_mutex_lock(&u->lock);
	b = find_block(u, tid, seq, false);
	if (b && b->stack >= 0)
		s = &u->stacks[b->stack];
	pthread_mutex_unlock(&u->lock);
	return s;
}

size_t fog_unwinder__stacks(struct fog_unwinder *u, const struct fog_unw_stack **v)
{
	*v = u->stacks;
	return u->nstacks;
}

/* Without the lock, which a batch holds for up to the helper's time: counters only grow. */
void fog_unwinder__stats(struct fog_unwinder *u, struct fog_unwinder_stats *st)
{
	__u64 *d = (__u64 *)st, *s = (__u64 *)&u->st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(__u64); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

int fog_unwinder__python(struct fog_unwinder *u, int map_fd, __u32 pid)
{
	struct fog_pyproc *py = fog_pyproc__new(map_fd);

	if (!py)
		return -errno;
	pthread_mutex_lock(&u->lock);
	fog_pyproc__free(u->py);
	u->py = py;
	u->py_pid = pid;
	pthread_mutex_unlock(&u->lock);
	return 0;
}

/* After flush, as the counted stacks: names are added only while records are unwound. */
const char *fog_unwinder__py_name(struct fog_unwinder *u, __u32 id, const char **file)
{
	return fog_pyproc__name(u->py, id, file);
}

size_t fog_unwinder__pids(struct fog_unwinder *u, __u32 *pids, size_t max)
{
	size_t n;

	pthread_mutex_lock(&u->pid_lock);
	n = u->npids < max ? u->npids : max;
	memcpy(pids, u->pids, n * sizeof(*pids));
	pthread_mutex_unlock(&u->pid_lock);
	return n;
}
