// SPDX-License-Identifier: GPL-2.0-only
/*
 * The memory optimizer: lazy values (exactly once under threads, release
 * and re-create), usage and PSI parsing and evaluation, pressure sources
 * over real and fake files, the fd and the thread, reclaim, malloc tuning.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "fog/arena.h"
#include "fog/lazy.h"
#include "fog/memopt.h"

#define MiB (1024u * 1024)

/* ---- lazy values ---- */

struct value {
	uint64_t magic; /* VALUE_ALIVE until destroyed */
	unsigned int serial;
};

#define VALUE_ALIVE 0x11feu
#define VALUE_DEAD  0xdeadu

struct maker {
	unsigned int creates;	 /* atomic */
	unsigned int destroys;	 /* atomic */
	unsigned int fail_first; /* fail this many creates with ENOSPC */
	useconds_t delay_us;	 /* widens the window for racing creators */
};

static void *make_value(void *ctx)
{
	struct maker *mk = ctx;
	unsigned int n = __atomic_add_fetch(&mk->creates, 1, __ATOMIC_SEQ_CST);
	struct value *v;

	if (n <= mk->fail_first) {
		errno = ENOSPC;
		return NULL;
	}
	if (mk->delay_us)
		usleep(mk->delay_us);
	v = malloc(sizeof(*v));
	v->magic = VALUE_ALIVE;
	v->serial = n;
	return v;
}

static void drop_value(void *value, void *ctx)
{
	struct maker *mk = ctx;
	struct value *v = value;

	assert_int_equal(v->magic, VALUE_ALIVE);
	v->magic = VALUE_DEAD;
	__atomic_add_fetch(&mk->destroys, 1, __ATOMIC_SEQ_CST);
	free(v);
}

enum { ONCE_THREADS = 8 };

struct once_arg {
	struct fog_lazy *lazy;
	pthread_barrier_t *go;
	void *got;
};

static void *once_thread(void *arg)
{
	struct once_arg *a = arg;

	pthread_barrier_wait(a->go);
	a->got = fog_lazy__get(a->lazy);
	return NULL;
}

static void test_lazy_exactly_once(void **state)
{
	struct maker mk = {.delay_us = 20000};
	struct fog_lazy_opts o = {.create = make_value, .destroy = drop_value, .ctx = &mk};
	struct fog_lazy *l = fog_lazy__new(&o);
	struct once_arg args[ONCE_THREADS];
	pthread_t t[ONCE_THREADS];
	struct fog_lazy_stats st;
	pthread_barrier_t go;

	assert_non_null(l);
	pthread_barrier_init(&go, NULL, ONCE_THREADS);
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < ONCE_THREADS; i++) {
			args[i] = (struct once_arg){.lazy = l, .go = &go};
			assert_int_equal(pthread_create(&t[i], NULL, once_thread, &args[i]), 0);
		}
		for (int i = 0; i < ONCE_THREADS; i++)
			pthread_join(t[i], NULL);
		/* one create, all eight threads see that one value */
		assert_int_equal(mk.creates, 1);
		for (int i = 0; i < ONCE_THREADS; i++) {
			assert_non_null(args[i].got);
			assert_ptr_equal(args[i].got, args[0].got);
			fog_lazy__put(l);
		}
	}
	fog_lazy__stats(l, &st);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.holders, 0);
	assert_true(st.ready);
	assert_int_equal(fog_lazy__release(l), -EPERM); /* not releasable */
	pthread_barrier_destroy(&go);
	fog_lazy__free(l);
	assert_int_equal(mk.destroys, 1);
}

static void test_lazy_release_recreate(void **state)
{
	struct maker mk = {0};
	struct fog_lazy_opts o = {
		.create = make_value,
		.destroy = drop_value,
		.ctx = &mk,
		.releasable = true,
		.size_hint = 4096,
		.name = "table",
	};
	struct fog_lazy *l = fog_lazy__new(&o);
	struct fog_lazy_stats st;
	struct value *v1, *v2;

	assert_non_null(l);
	assert_string_equal(fog_lazy__name(l), "table");
	assert_int_equal(fog_lazy__size_hint(l), 4096);
	assert_int_equal(fog_lazy__release(l), -ENOENT); /* nothing made yet */
	assert_int_equal(mk.creates, 0);		 /* lazy: nothing before the first get */
	v1 = fog_lazy__get(l);
	assert_non_null(v1);
	assert_int_equal(v1->serial, 1);
	assert_int_equal(fog_lazy__release(l), -EBUSY); /* held */
	assert_int_equal(mk.destroys, 0);
	fog_lazy__put(l);
	assert_int_equal(fog_lazy__release(l), 0);
	assert_int_equal(mk.destroys, 1);
	fog_lazy__stats(l, &st);
	assert_false(st.ready);
	assert_int_equal(st.releases, 1);
	v2 = fog_lazy__get(l); /* made again on the next access */
	assert_non_null(v2);
	assert_int_equal(v2->serial, 2);
	assert_int_equal(v2->magic, VALUE_ALIVE);
	{
		FOG_LAZY_REF(ref, l); /* a scoped second reference */

		assert_ptr_equal(ref.value, v2);
		fog_lazy__stats(l, &st);
		assert_int_equal(st.holders, 2);
	}
	fog_lazy__stats(l, &st);
	assert_int_equal(st.holders, 1);
	fog_lazy__put(l);
	fog_lazy__stats(l, &st);
	assert_int_equal(st.creates, 2);
	assert_int_equal(st.holders, 0);
	fog_lazy__free(l);
	assert_int_equal(mk.destroys, 2);
}

static void test_lazy_create_fails(void **state)
{
	struct maker mk = {.fail_first = 1};
	struct fog_lazy_opts o = {.create = make_value, .destroy = drop_value, .ctx = &mk};
	struct fog_lazy *l = fog_lazy__new(&o);
	struct fog_lazy_stats st;

	assert_non_null(l);
	errno = 0;
	assert_null(fog_lazy__get(l));
	assert_int_equal(errno, ENOSPC);
	{
		FOG_LAZY_REF(ref, l); /* the next access tries again */

		assert_non_null(ref.value);
	}
	fog_lazy__stats(l, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.holders, 0);
	fog_lazy__free(l);

	/* bad options */
	o = (struct fog_lazy_opts){.destroy = drop_value};
	assert_null(fog_lazy__new(&o));
	assert_int_equal(errno, EINVAL);
	o = (struct fog_lazy_opts){.create = make_value, .releasable = true};
	assert_null(fog_lazy__new(&o));
	assert_int_equal(errno, EINVAL);
	assert_null(fog_lazy__new(NULL));
	fog_lazy__free(NULL);
}

struct stress {
	struct fog_lazy *lazy;
	volatile int stop;
	unsigned int bad; /* a holder saw a destroyed value */
	unsigned int released;
};

static void *stress_holder(void *arg)
{
	struct stress *s = arg;
	unsigned int n = 0;

	while (!s->stop) {
		struct value *v = fog_lazy__get(s->lazy);

		if (!v) {
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		/* a release in between would have freed it: ASan and the magic both see that */
		for (int i = 0; i < 10; i++)
			if (__atomic_load_n(&v->magic, __ATOMIC_SEQ_CST) != VALUE_ALIVE)
				__atomic_add_fetch(&s->bad, 1, __ATOMIC_SEQ_CST);
		fog_lazy__put(s->lazy);
		if (!(++n % 64))
			usleep(50); /* let go now and then, or release never gets a turn */
	}
	return NULL;
}

/* Releases racing gets: a value is never destroyed under a holder. */
static void test_lazy_release_races_get(void **state)
{
	struct maker mk = {0};
	struct fog_lazy_opts o = {
		.create = make_value, .destroy = drop_value, .ctx = &mk, .releasable = true};
	struct stress s = {.lazy = fog_lazy__new(&o)};
	pthread_t t[3];

	assert_non_null(s.lazy);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, stress_holder, &s);
	/* until 200 releases went through, for at most about 10 s */
	for (int i = 0; i < 1000000 && s.released < 200; i++) {
		if (!fog_lazy__release(s.lazy))
			s.released++;
		else if (!(i % 16))
			usleep(10);
	}
	s.stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.released, 200);
	/* every value made was destroyed once, or is the one still cached */
	fog_lazy__free(s.lazy);
	assert_int_equal(mk.creates, mk.destroys);
	assert_true(mk.creates == s.released || mk.creates == s.released + 1);
}

/* ---- parsing and evaluation ---- */

static const char meminfo_ok[] = "MemTotal:       16000000 kB\n"
				 "MemFree:         1000000 kB\n"
				 "MemAvailable:    4000000 kB\n"
				 "Buffers:          100000 kB\n"
				 "SwapTotal:             0 kB\n"
				 "SwapFree:              0 kB\n";

static void test_usage_host(void **state)
{
	struct fog_mem_usage u;
	char err[200];

	assert_int_equal(fog_mem_usage_host(meminfo_ok, &u, err, sizeof(err)), 0);
	assert_int_equal(u.total, 16000000ull * 1024);
	assert_int_equal(u.used, 12000000ull * 1024);
	assert_true(fabs(u.pct - 75.0) < 1e-9);
	/* a broken line elsewhere does not matter when the two fields read */
	assert_int_equal(fog_mem_usage_host("garbage line\nMemTotal: 100 kB\nMemAvailable: 15 kB\n",
					    &u, err, sizeof(err)),
			 0);
	assert_true(fabs(u.pct - 85.0) < 1e-9);

	assert_int_equal(fog_mem_usage_host("MemTotal: 100 kB\n", &u, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "meminfo"));
	assert_true(u.pct < 0);
	assert_int_equal(
		fog_mem_usage_host("MemTotal: 1x0 kB\nMemAvailable: 5 kB\n", &u, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(fog_mem_usage_host("MemTotal: 100 kB\nMemAvailable: 500 kB\n", &u, err,
					    sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "MemAvailable 500 kB with MemTotal 100 kB"));
	assert_int_equal(
		fog_mem_usage_host("MemTotal: 0 kB\nMemAvailable: 0 kB\n", &u, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(fog_mem_usage_host("", &u, err, sizeof(err)), -EINVAL);
}

static void test_usage_cgroup(void **state)
{
	struct fog_mem_usage u;
	char err[200];

	assert_int_equal(fog_mem_usage_cgroup("850\n", "1000\n", &u, err, sizeof(err)), 0);
	assert_int_equal(u.used, 850);
	assert_int_equal(u.total, 1000);
	assert_true(fabs(u.pct - 85.0) < 1e-9);
	/* v2 "max" and v1's unlimited value: usage known, no percentage */
	assert_int_equal(fog_mem_usage_cgroup("123456\n", "max\n", &u, err, sizeof(err)), 0);
	assert_int_equal(u.used, 123456);
	assert_int_equal(u.total, 0);
	assert_true(u.pct < 0);
	assert_int_equal(fog_mem_usage_cgroup("5\n", "9223372036854771712\n", &u, err, sizeof(err)),
			 0);
	assert_true(u.pct < 0);
	assert_int_equal(fog_mem_usage_cgroup("5\n", "0\n", &u, err, sizeof(err)), 0);
	assert_true(fabs(u.pct - 100.0) < 1e-9);

	assert_int_equal(fog_mem_usage_cgroup("12abc\n", "1000\n", &u, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "12abc"));
	assert_int_equal(fog_mem_usage_cgroup("-5\n", "1000\n", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(fog_mem_usage_cgroup("max\n", "1000\n", &u, err, sizeof(err)), -EINVAL);
	assert_int_equal(fog_mem_usage_cgroup("10\n", "", &u, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(fog_mem_usage_cgroup("10\n", "lots\n", &u, err, sizeof(err)), -EINVAL);
}

static void test_psi_stall_pct(void **state)
{
	/* 200 ms stalled in 2 s */
	assert_true(fabs(fog_psi_stall_pct(1000, 201000, 2000000000ull) - 10.0) < 1e-9);
	assert_true(fabs(fog_psi_stall_pct(5, 5, 1000000000ull)) < 1e-9);
	assert_true(fog_psi_stall_pct(10, 5, 1000000000ull) < 0); /* went backwards */
	assert_true(fog_psi_stall_pct(0, 5, 0) < 0);
	assert_true(fabs(fog_psi_stall_pct(0, 5000000, 1000000000ull) - 100.0) < 1e-9);
}

static struct fog_mem_pressure unknown(void)
{
	return (struct fog_mem_pressure){
		.host_some_pct = -1,
		.host_full_pct = -1,
		.cgroup_some_pct = -1,
		.cgroup_full_pct = -1,
		.host = {.pct = -1},
		.cgroup = {.pct = -1},
	};
}

static void test_pressure_eval(void **state)
{
	struct fog_memopt_opts o = {.window_us = 4000000, .some_stall_us = 800000, .alert_pct = 50};
	struct fog_mem_pressure p = unknown();

	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_OK);
	assert_string_equal(p.reason, "ok");
	p.host.pct = 84.9;
	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_OK);
	p.host.pct = 85.0; /* the default alert */
	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_WARN);
	assert_string_equal(p.reason, "host usage");
	p = unknown();
	p.cgroup.pct = 99;
	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_WARN);
	assert_string_equal(p.reason, "cgroup usage");
	p.host_some_pct = 9.99; /* default: 200 ms of 2 s is 10% */
	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_WARN);
	p.host_some_pct = 10.0;
	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_SOME);
	assert_string_equal(p.reason, "host psi some");
	p.cgroup_full_pct = 5.0; /* default: 100 ms of 2 s */
	fog_mem_pressure_eval(&p, NULL);
	assert_int_equal(p.level, FOG_MEM_FULL);
	assert_string_equal(p.reason, "cgroup psi full");
	p.host_full_pct = 50;
	fog_mem_pressure_eval(&p, NULL);
	assert_string_equal(p.reason, "host psi full");

	/* thresholds from opts: 800 ms of 4 s is 20%, usage alert at 50% */
	p = unknown();
	p.host_some_pct = 19.9;
	p.host.pct = 50;
	fog_mem_pressure_eval(&p, &o);
	assert_int_equal(p.level, FOG_MEM_WARN);
	p.host_some_pct = 20.0;
	fog_mem_pressure_eval(&p, &o);
	assert_int_equal(p.level, FOG_MEM_SOME);
	assert_string_equal(fog_mem_level_name(FOG_MEM_FULL), "full");
	assert_string_equal(fog_mem_level_name((enum fog_mem_level)17), "unknown");
}

/* ---- the optimizer over real files ---- */

static bool have_psi(void)
{
	return access("/proc/pressure/memory", R_OK) == 0;
}

static void test_psi_trigger_registration(void **state)
{
	struct fog_memopt_source src[4];
	struct fog_memopt *m;
	int n, level;

	if (!have_psi()) {
		print_message("no /proc/pressure/memory (kernel without PSI): skipped\n");
		skip();
	}
	m = fog_memopt__new(NULL);
	assert_non_null(m);
	n = fog_memopt__sources(m, src, 4);
	assert_int_equal(n, 4);
	assert_string_equal(src[0].name, "host psi");
	assert_string_equal(src[0].path, "/proc/pressure/memory");
	assert_true(src[0].active);
	/* the default 2 s window is accepted with or without CAP_SYS_RESOURCE */
	assert_true(src[0].trigger);
	assert_string_equal(src[0].error, "");
	assert_true(src[2].active); /* host usage */
	/* every source either works or says why not */
	for (int i = 0; i < n; i++)
		assert_true(src[i].active || src[i].error[0]);
	assert_true(fog_memopt__fd(m) >= 0);
	level = fog_memopt__check(m);
	assert_true(level >= FOG_MEM_OK && level <= FOG_MEM_FULL);
	fog_memopt__free(m);
}

/* A window the kernel refuses without privilege: the error says so, clearly. */
static void test_psi_trigger_refused(void **state)
{
	struct fog_memopt_opts o = {
		.window_us = 1000000, .some_stall_us = 100000, .full_stall_us = 50000};
	struct fog_memopt_source src[4];
	struct fog_memopt *m;

	if (!have_psi()) {
		print_message("no /proc/pressure/memory (kernel without PSI): skipped\n");
		skip();
	}
	m = fog_memopt__new(&o);
	assert_non_null(m); /* degraded, not failed: samples still work */
	fog_memopt__sources(m, src, 4);
	assert_true(src[0].active);
	if (src[0].trigger) {
		/* CAP_SYS_RESOURCE: any window from 0.5 to 10 s is fine */
		assert_string_equal(src[0].error, "");
		fog_memopt__free(m);
		return;
	}
	assert_non_null(strstr(src[0].error, "trigger 'some 100000 1000000' refused"));
	assert_non_null(strstr(src[0].error, "multiple of 2 s"));
	fog_memopt__free(m);
	/* and a caller that needs the trigger gets the kernel's error */
	o.flags = FOG_MEMOPT_REQUIRE_PSI;
	errno = 0;
	assert_null(fog_memopt__new(&o));
	assert_true(errno == EINVAL || errno == EPERM);
}

static void test_bad_opts(void **state)
{
	struct fog_memopt_opts bad[] = {
		{.window_us = 100000},	    {.window_us = 20000000},
		{.some_stall_us = 3000000}, /* beyond the 2 s default window */
		{.full_stall_us = 2000001}, {.alert_pct = 150},
		{.alert_pct = -1},	    {.alert_pct = NAN},
		{.interval_ms = 4000000},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(fog_memopt__new(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
}

/* ---- the optimizer over fake files: exact figures ---- */

struct fake {
	char dir[64];
	char psi[96];
	char meminfo[96];
	char cgroup[96];
};

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s%s", dir, name[0] ? "/" : "", name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void put_psi(const char *path, unsigned long some_us, unsigned long full_us)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "some avg10=0.00 avg60=0.00 avg300=0.00 total=%lu\n"
		 "full avg10=0.00 avg60=0.00 avg300=0.00 total=%lu\n",
		 some_us, full_us);
	put_file(path, "", text);
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/fog-memopt.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->psi, sizeof(f->psi), "%s/pressure", f->dir);
	snprintf(f->meminfo, sizeof(f->meminfo), "%s/meminfo", f->dir);
	snprintf(f->cgroup, sizeof(f->cgroup), "%s/cg", f->dir);
	mkdir(f->cgroup, 0755);
	put_psi(f->psi, 0, 0);
	put_file(f->meminfo, "", meminfo_ok); /* 75% */
	put_file(f->cgroup, "memory.current", "500\n");
	put_file(f->cgroup, "memory.max", "1000\n");
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	static const char *const files[] = {"pressure", "meminfo", "cg/memory.current",
					    "cg/memory.max", "cg/memory.pressure"};
	struct fake *f = *state;
	char path[160];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->cgroup);
	if (rmdir(f->dir))
		return -1;
	free(f);
	return 0;
}

struct seen {
	int calls;
	enum fog_mem_level level[8];
	enum fog_mem_level prev[8];
	char reason[8][32];
};

static void on_pressure(const struct fog_mem_pressure *p, void *ctx)
{
	struct seen *s = ctx;

	if (s->calls < 8) {
		s->level[s->calls] = p->level;
		s->prev[s->calls] = p->prev;
		snprintf(s->reason[s->calls], sizeof(s->reason[0]), "%s", p->reason);
	}
	s->calls++;
}

static uint64_t count_reclaim(void *ctx)
{
	++*(int *)ctx;
	return 12345;
}

static struct fog_memopt *fake_memopt(struct fake *f, unsigned int flags)
{
	struct fog_memopt_opts o = {
		.window_us = 500000,	/* the shortest: keeps the test short */
		.some_stall_us = 50000, /* 10% */
		.full_stall_us = 25000, /* 5% */
		.psi_path = f->psi,
		.meminfo_path = f->meminfo,
		.cgroup_dir = f->cgroup,
		.flags = FOG_MEMOPT_NO_PSI | flags, /* triggers on regular files make no sense */
	};

	return fog_memopt__new(&o);
}

static void test_levels_from_files(void **state)
{
	struct fake *f = *state;
	struct fog_memopt_source src[4];
	struct fog_mem_pressure p;
	struct seen seen = {0};
	struct fog_memopt *m;
	char path[160];

	snprintf(path, sizeof(path), "%s/memory.pressure", f->cgroup);
	unlink(path);
	m = fake_memopt(f, 0);
	assert_non_null(m);
	fog_memopt__sources(m, src, 4);
	assert_true(src[0].active);
	assert_false(src[0].trigger);
	assert_non_null(strstr(src[0].error, "triggers off"));
	assert_false(src[1].active); /* no memory.pressure in the fake cgroup */
	assert_non_null(strstr(src[1].error, "memory.pressure"));
	assert_true(src[2].active);
	assert_true(src[3].active);
	assert_non_null(strstr(src[3].path, "memory.current"));
	assert_int_equal(fog_memopt__on_pressure(m, on_pressure, &seen), 0);

	assert_int_equal(fog_memopt__check(m), FOG_MEM_OK);
	fog_memopt__last(m, &p);
	assert_true(fabs(p.host.pct - 75.0) < 1e-9);
	assert_true(fabs(p.cgroup.pct - 50.0) < 1e-9);
	assert_true(p.host_some_pct >= 0 && p.host_some_pct < 1e-9);
	assert_true(p.cgroup_some_pct < 0); /* no source */
	assert_int_equal(seen.calls, 0);    /* no change, no call */

	/* 100 ms stalled in about 200 ms: some, not full */
	usleep(200000);
	put_psi(f->psi, 100000, 0);
	assert_int_equal(fog_memopt__check(m), FOG_MEM_SOME);
	fog_memopt__last(m, &p);
	/* 100 ms over at least 200 ms: at most 50%, more than the 10% threshold */
	assert_true(p.host_some_pct > 10 && p.host_some_pct <= 51);
	assert_true(fabs(p.host_full_pct) < 1e-9);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.level[0], FOG_MEM_SOME);
	assert_int_equal(seen.prev[0], FOG_MEM_OK);
	assert_string_equal(seen.reason[0], "host psi some");

	/* a window later without new stalls: back to ok */
	usleep(600000);
	assert_int_equal(fog_memopt__check(m), FOG_MEM_OK);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.prev[1], FOG_MEM_SOME);

	/* 100 ms with every task stalled since the reading a window ago: full */
	put_psi(f->psi, 200000, 100000);
	assert_int_equal(fog_memopt__check(m), FOG_MEM_FULL);
	assert_string_equal(seen.reason[2], "host psi full");
	fog_memopt__last(m, &p);
	/* 100 ms over at least 600 ms: under 17%, more than the 5% threshold */
	assert_true(p.host_full_pct > 5 && p.host_full_pct < 17);
	usleep(150000); /* a reading after that stall, to measure the next window from */
	assert_int_equal(fog_memopt__check(m), FOG_MEM_FULL);
	assert_int_equal(seen.calls, 3);

	/* usage past the alert, no stall growth */
	usleep(600000);
	put_file(f->cgroup, "memory.current", "900\n");
	assert_int_equal(fog_memopt__check(m), FOG_MEM_WARN);
	assert_string_equal(seen.reason[3], "cgroup usage");
	put_file(f->cgroup, "memory.current", "100\n");
	put_file(f->meminfo, "", "MemTotal: 1000 kB\nMemAvailable: 100 kB\n");
	assert_int_equal(fog_memopt__check(m), FOG_MEM_WARN);
	fog_memopt__last(m, &p);
	assert_string_equal(p.reason, "host usage");
	assert_true(fabs(p.host.pct - 90.0) < 1e-9);
	assert_int_equal(seen.calls, 4); /* warn to warn is no change */

	/* a malformed file: that figure is unknown, the rest still count */
	put_file(f->meminfo, "", "MemTotal: lots\n");
	assert_int_equal(fog_memopt__check(m), FOG_MEM_OK);
	fog_memopt__last(m, &p);
	assert_true(p.host.pct < 0);
	assert_true(fabs(p.cgroup.pct - 10.0) < 1e-9);
	put_psi(f->psi, 100, 0); /* the total went backwards */
	assert_int_equal(fog_memopt__check(m), FOG_MEM_OK);
	fog_memopt__last(m, &p);
	assert_true(p.host_some_pct < 0);
	fog_memopt__free(m);
}

static void test_cgroup_psi_and_auto_reclaim(void **state)
{
	struct fake *f = *state;
	struct fog_memopt_source src[4];
	struct fog_memopt *m;
	char path[160];
	int reclaims = 0;

	snprintf(path, sizeof(path), "%s/memory.pressure", f->cgroup);
	put_psi(path, 0, 0);
	m = fake_memopt(f, FOG_MEMOPT_AUTO_RECLAIM);
	assert_non_null(m);
	fog_memopt__sources(m, src, 4);
	assert_true(src[1].active);
	assert_string_equal(src[1].path, path);
	assert_int_equal(fog_memopt__add_reclaim(m, count_reclaim, &reclaims), 0);
	usleep(150000);
	put_psi(path, 60000, 0);
	assert_int_equal(fog_memopt__check(m), FOG_MEM_SOME);
	assert_int_equal(reclaims, 1); /* on the rise */
	assert_int_equal(fog_memopt__check(m), FOG_MEM_SOME);
	assert_int_equal(reclaims, 1); /* not again while it stays */
	fog_memopt__free(m);
}

static void test_fd_and_thread(void **state)
{
	struct fake *f = *state;
	struct fog_memopt_opts o = {
		.interval_ms = 100,
		.psi_path = f->psi,
		.meminfo_path = f->meminfo,
		.cgroup_dir = "",
		.flags = FOG_MEMOPT_NO_PSI,
	};
	struct fog_memopt *m = fog_memopt__new(&o);
	struct fog_memopt_source src[4];
	struct fog_mem_pressure p;
	struct pollfd pfd;
	struct seen seen = {0};

	assert_non_null(m);
	fog_memopt__sources(m, src, 4);
	assert_false(src[3].active);
	assert_non_null(strstr(src[3].error, "off"));
	/* the caller's own loop: the fd turns readable when a sample is due */
	pfd = (struct pollfd){.fd = fog_memopt__fd(m), .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(fog_memopt__dispatch(m), FOG_MEM_OK);
	fog_memopt__last(m, &p);
	assert_int_equal(p.wakeups, 1);
	/* dispatched: not readable again until the next period */
	assert_int_equal(poll(&pfd, 1, 0), 0);

	/* or a thread of its own */
	assert_int_equal(fog_memopt__on_pressure(m, on_pressure, &seen), 0);
	assert_int_equal(fog_memopt__start(m), 0);
	assert_int_equal(fog_memopt__start(m), -EALREADY);
	put_file(f->meminfo, "", "MemTotal: 1000 kB\nMemAvailable: 10 kB\n");
	for (int i = 0; i < 200 && __atomic_load_n(&seen.calls, __ATOMIC_SEQ_CST) < 1; i++)
		usleep(10000);
	assert_int_equal(fog_memopt__stop(m), 0);
	assert_int_equal(fog_memopt__stop(m), -ENOENT);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.level[0], FOG_MEM_WARN);
	fog_memopt__last(m, &p);
	assert_true(p.wakeups >= 2);
	fog_memopt__free(m);
}

/* ---- reclaim ---- */

static void test_reclaim(void **state)
{
	struct fake *f = *state;
	struct fog_memopt *m = fake_memopt(f, 0);
	struct fog_arena_opts ao = {.reserve = 256 * MiB, .commit_chunk = 1 * MiB};
	struct fog_arena *a = fog_arena__new(&ao);
	struct maker mk_idle = {0}, mk_busy = {0};
	struct fog_lazy_opts lo = {
		.create = make_value, .destroy = drop_value, .releasable = true, .size_hint = MiB};
	struct fog_lazy *idle, *busy;
	struct fog_reclaim_result r;
	enum { N = 64 * 1024 };
	void **blocks = calloc(N, sizeof(void *)), *big;
	int calls = 0;

	assert_non_null(m);
	assert_non_null(a);
	lo.ctx = &mk_idle;
	idle = fog_lazy__new(&lo);
	lo.ctx = &mk_busy;
	busy = fog_lazy__new(&lo);
	assert_non_null(fog_lazy__get(idle));
	fog_lazy__put(idle);
	assert_non_null(fog_lazy__get(busy)); /* held through the reclaim */
	assert_int_equal(fog_memopt__add_arena(m, a), 0);
	assert_int_equal(fog_memopt__add_lazy(m, idle), 0);
	assert_int_equal(fog_memopt__add_lazy(m, busy), 0);
	assert_int_equal(fog_memopt__add_reclaim(m, count_reclaim, &calls), 0);
	assert_int_equal(fog_memopt__add_arena(m, NULL), -EINVAL);

	/* 16 MiB of arena memory touched, then freed: committed but idle */
	big = fog_arena__alloc(a, 16 * MiB);
	memset(big, 1, 16 * MiB);
	assert_int_equal(fog_arena__dealloc(a, big), 0);
	/* 64 MiB of malloc heap freed behind a pinned block: only malloc_trim returns it */
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(1000);
		memset(blocks[i], 2, 1000);
	}
	for (int i = 0; i < N - 1; i++)
		free(blocks[i]);

	assert_int_equal(fog_memopt__reclaim(m, &r), 0);
	assert_int_equal(r.arena_bytes, 16 * MiB);
	assert_int_equal(r.lazies, 1);
	assert_int_equal(r.lazies_busy, 1);
	assert_int_equal(r.lazy_bytes, MiB);
	assert_int_equal(mk_idle.destroys, 1);
	assert_int_equal(mk_busy.destroys, 0);
	assert_int_equal(r.callback_bytes, 12345);
	assert_int_equal(calls, 1);
	assert_true(r.rss_before > 0);
	assert_true(r.rss_after < r.rss_before);
	assert_int_equal(r.released, r.rss_before - r.rss_after);
	/* the arena's 16 MiB were resident: their release shows in the resident set */
	assert_true(r.released >= 14 * MiB);
#if !defined(__SANITIZE_ADDRESS__) /* ASan's allocator replaces glibc's */
	if (!RUNNING_ON_VALGRIND) {	/* and so does valgrind's: malloc_trim frees nothing */
		assert_true(r.malloc_bytes >= 40 * MiB);
		assert_true(r.released >= 54 * MiB);
	}
#endif
	assert_true(r.pause_ns > 0 && r.pause_ns < 5000000000ull);
	/* a second reclaim finds little left */
	assert_int_equal(fog_memopt__reclaim(m, &r), 0);
	assert_int_equal(r.arena_bytes, 0);
	assert_int_equal(r.lazies, 0);
	/* without an optimizer: malloc_trim only */
	assert_int_equal(fog_memopt__reclaim(NULL, &r), 0);
	assert_int_equal(r.callback_bytes, 0);

	free(blocks[N - 1]);
	free(blocks);
	fog_lazy__put(busy);
	fog_memopt__free(m);
	fog_lazy__free(idle);
	fog_lazy__free(busy);
	fog_arena__free(a);
}

static void test_registration_limits(void **state)
{
	struct fake *f = *state;
	struct fog_memopt *m = fake_memopt(f, 0);
	int calls = 0, err = 0, n = 0;

	assert_non_null(m);
	while (!(err = fog_memopt__add_reclaim(m, count_reclaim, &calls)))
		n++;
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(n, 32);
	assert_int_equal(fog_memopt__on_pressure(m, NULL, NULL), -EINVAL);
	fog_memopt__free(m);
	fog_memopt__free(NULL);
}

/* ---- malloc tuning ---- */

static void test_malloc_tune(void **state)
{
	struct fog_malloc_tuning t = {.arena_max = -1};
	char err[160];

	assert_int_equal(fog_malloc_tune(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "arena_max -1"));
	t = (struct fog_malloc_tuning){.mmap_threshold = 64l * MiB};
	assert_int_equal(fog_malloc_tune(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mmap_threshold 67108864: glibc takes 0 to 33554432 bytes"));
	t = (struct fog_malloc_tuning){.trim_threshold = -5};
	assert_int_equal(fog_malloc_tune(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "trim_threshold -5"));
	t = (struct fog_malloc_tuning){
		.arena_max = 2, .trim_threshold = 256 * 1024, .mmap_threshold = 256 * 1024};
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator replaces glibc's, and its mallopt takes nothing */
	assert_int_equal(fog_malloc_tune(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mallopt M_ARENA_MAX 2 refused"));
#else
	assert_int_equal(fog_malloc_tune(&t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	{
		/*
		 * The mmap threshold takes effect: 300 KiB blocks are mmapped below
		 * it and come from the heap above it. Free heap chunks serve requests
		 * first whatever the threshold, so ask for more than they can hold.
		 */
		enum { N = 600 };
		void **v = calloc(N, sizeof(void *));
		size_t before = mallinfo2().hblks;

		for (int i = 0; i < N; i++)
			v[i] = malloc(300 * 1024);
		/* valgrind's allocator replaces glibc's: mallinfo2 stays empty */
		if (!RUNNING_ON_VALGRIND)
			assert_true(mallinfo2().hblks >= before + N / 2);
		for (int i = 0; i < N; i++)
			free(v[i]);
		t = (struct fog_malloc_tuning){.mmap_threshold = 1024 * 1024};
		assert_int_equal(fog_malloc_tune(&t, NULL, 0), 0);
		before = mallinfo2().hblks;
		for (int i = 0; i < N; i++)
			v[i] = malloc(300 * 1024);
		assert_int_equal(mallinfo2().hblks, before);
		for (int i = 0; i < N; i++)
			free(v[i]);
		free(v);
	}
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_exactly_once),
		cmocka_unit_test(test_lazy_release_recreate),
		cmocka_unit_test(test_lazy_create_fails),
		cmocka_unit_test(test_lazy_release_races_get),
		cmocka_unit_test(test_usage_host),
		cmocka_unit_test(test_usage_cgroup),
		cmocka_unit_test(test_psi_stall_pct),
		cmocka_unit_test(test_pressure_eval),
		cmocka_unit_test(test_psi_trigger_registration),
		cmocka_unit_test(test_psi_trigger_refused),
		cmocka_unit_test(test_bad_opts),
		cmocka_unit_test_setup_teardown(test_levels_from_files, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_psi_and_auto_reclaim, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fd_and_thread, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_registration_limits, fake_setup,
						fake_teardown),
		cmocka_unit_test(test_malloc_tune),
	};

	return cmocka_run_group_tests_name("memopt", tests, NULL, NULL);
}
