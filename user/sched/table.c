// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's table of tasks: the id index, the list of every kept task in
 * submission order, the list of ended ones in the order they ended (evicted
 * first when the table is full), each worker's list of the tasks it holds,
 * and the heap of deadlines and run limits. Every operation costs O(1) or
 * O(log n), so no request grows with the number of tasks kept.
 */
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"

/* ---- id index: open addressing with linear probing, FNV-1a ---- */

static unsigned int id_hash(const char *id)
{
	unsigned int h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

struct fog_task *fog_sched_find(const struct fog_sched *s, const char *id)
{
	unsigned int mask = s->index_size - 1, h = id_hash(id), i = h & mask;

	for (struct fog_task *t; (t = s->index[i]); i = (i + 1) & mask)
		if (t->hash == h && !strcmp(t->info.spec.id, id))
			return t;
	return NULL;
}

static void index_put(struct fog_sched *s, struct fog_task *t)
{
	unsigned int mask = s->index_size - 1, i = t->hash & mask;

	while (s->index[i])
		i = (i + 1) & mask;
	s->index[i] = t;
}

/*
 * Deletion without tombstones (Knuth, TAOCP vol. 3, 6.4, Algorithm R): later
 * entries of the probe run move back into the hole when their home slot
 * allows, so lookups never slow down however many tasks come and go.
 */
static void index_del(struct fog_sched *s, struct fog_task *t)
{
	unsigned int mask = s->index_size - 1, i = t->hash & mask, j;

	for (; s->index[i] != t; i = (i + 1) & mask)
		if (!s->index[i])
			return;
	for (j = i;;) {
		unsigned int home;

		j = (j + 1) & mask;
		if (!s->index[j])
			break;
		home = s->index[j]->hash & mask;
		/* the entry at j may fill the hole at i unless its home lies in (i, j] */
		if (i <= j ? home <= i || home > j : home <= i && home > j) {
			s->index[i] = s->index[j];
			i = j;
		}
	}
	s->index[i] = NULL;
}

/* ---- task lists and the deadline heap ---- */

static void list_unlink(struct fog_sched *s, struct fog_task *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		s->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		s->tail = t->prev;
	t->prev = t->next = NULL;
}

void fog_worker_link(struct fog_worker *w, struct fog_task *t)
{
	t->wprev = NULL;
	t->wnext = w->task_head;
	if (w->task_head)
		w->task_head->wprev = t;
	w->task_head = t;
}

void fog_worker_unlink(struct fog_worker *w, struct fog_task *t)
{
	if (t->wprev)
		t->wprev->wnext = t->wnext;
	else
		w->task_head = t->wnext;
	if (t->wnext)
		t->wnext->wprev = t->wprev;
	t->wprev = t->wnext = NULL;
}

static void dl_swap(struct fog_sched *s, unsigned int a, unsigned int b)
{
	struct fog_task *t = s->dl_heap[a];

	s->dl_heap[a] = s->dl_heap[b];
	s->dl_heap[b] = t;
	s->dl_heap[a]->dl_idx = a;
	s->dl_heap[b]->dl_idx = b;
}

static void dl_fix(struct fog_sched *s, unsigned int i)
{
	while (i && s->dl_heap[(i - 1) / 2]->dl_ns > s->dl_heap[i]->dl_ns) {
		dl_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->n_dl && s->dl_heap[l]->dl_ns < s->dl_heap[m]->dl_ns)
			m = l;
		if (r < s->n_dl && s->dl_heap[r]->dl_ns < s->dl_heap[m]->dl_ns)
			m = r;
		if (m == i)
			return;
		dl_swap(s, i, m);
		i = m;
	}
}

void fog_deadline_set(struct fog_sched *s, struct fog_task *t, __u64 dl_ns)
{
	unsigned int i = t->dl_idx;

	if (!dl_ns) {
		if (i == FOG_NO_DL)
			return;
		t->dl_idx = FOG_NO_DL;
		if (i != --s->n_dl) {
			s->dl_heap[i] = s->dl_heap[s->n_dl];
			s->dl_heap[i]->dl_idx = i;
			dl_fix(s, i);
		}
		return;
	}
	t->dl_ns = dl_ns;
	if (i == FOG_NO_DL) {
		i = s->n_dl++;
		s->dl_heap[i] = t;
		t->dl_idx = i;
	}
	dl_fix(s, i);
}

void fog_task_set_state(struct fog_sched *s, struct fog_task *t, enum fog_task_state st)
{
	if (t->info.state <= FOG_TASK_RUNNING)
		s->live[t->info.state]--;
	t->info.state = st;
	if (st <= FOG_TASK_RUNNING)
		s->live[st]++;
}

bool fog_table_evict(struct fog_sched *s)
{
	struct fog_task *t = s->ended_head;

	if (!t)
		return false;
	s->ended_head = t->end_next;
	if (!s->ended_head)
		s->ended_tail = NULL;
	index_del(s, t);
	list_unlink(s, t);
	s->n_tasks--;
	s->st.evicted++;
	free(t);
	return true;
}

void fog_table_add(struct fog_sched *s, struct fog_task *t)
{
	t->hash = id_hash(t->info.spec.id);
	t->dl_idx = FOG_NO_DL;
	t->prev = s->tail;
	t->next = NULL;
	if (s->tail)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
	s->n_tasks++;
	if (t->info.state <= FOG_TASK_RUNNING)
		s->live[t->info.state]++;
	index_put(s, t);
}

void fog_table_ended(struct fog_sched *s, struct fog_task *t)
{
	t->end_next = NULL;
	if (s->ended_tail)
		s->ended_tail->end_next = t;
	else
		s->ended_head = t;
	s->ended_tail = t;
}
