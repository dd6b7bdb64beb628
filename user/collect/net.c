// SPDX-License-Identifier: GPL-2.0-only
/*
 * The net collector: bytes and packets per interface from the device
 * tracepoints, and per cgroup v2 from cgroup_skb programs on the v2 root.
 * Per-cgroup counting is optional: when cgroup_skb cannot attach (or
 * net.cgroup_skb is off) those programs are not even loaded, the JSON says
 * why, and the interfaces are counted all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "base/prom.h"
#include "base/text.h"
#include "collect/collect_int.h"
#include "collect/net_stats.h"
#include "net.skel.h"

_Static_assert(sizeof(struct fog_net_counters) == 32, "fog_net_counters is four __u64");

/* kernfs file handles (FILEID_KERNFS) carry the 64-bit cgroup id */
#define NET_FILEID_KERNFS 0xfe

struct net_state {
	struct net_bpf *skel;
	struct fog_net_ifaces *ifaces;
	void *values;	/* one per-CPU lookup */
	__u32 netns_ino;	/* fogd's network namespace, 0 if unknown */

	/* per cgroup */
	bool cg_wanted;	/* net.cgroup_skb when started */
	bool cg_available;
	char cg_reason[256];	/* why per-cgroup figures are unavailable */
	char cg_mount[256];	/* the cgroup v2 mount */
	int cg_fd;	/* that mount, open: attach point and file handles */
	struct fog_net_names *cg_names;	/* cgroup ids to paths below cg_mount */
	struct fog_cgroup_cache *cg_walk;	/* without file handles: borrowed or cg_own */
	struct fog_cgroup_cache *cg_own;
	struct fog_net_cgroup *cg_read;	/* the map's entries at the last tick */
	unsigned int cg_n;	/* how many of them are reported */
	char (*cg_paths)[FOG_NET_NAME_LEN];	/* paths of the reported ones, "" unresolved */
	unsigned int cg_paths_max;
};

static bool net_enabled(const struct fog_config *cfg)
{
	return cfg->net;
}

static __u32 self_netns_ino(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st)) {
		fog_warn("net: cannot stat /proc/self/ns/net, counting devices of every namespace");
		return 0;
	}
	return (__u32)st.st_ino;
}

/*
 * The path of cgroup id through its kernfs file handle: 0, -ENODEV when the
 * cgroup is gone, another negative errno when it cannot be told (fogd may
 * lack CAP_DAC_READ_SEARCH).
 */
static int cg_path_by_handle(struct net_state *s, __u64 id, char *out, size_t len)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh = { .handle_bytes = sizeof(__u64), .handle_type = NET_FILEID_KERNFS } };
	char proc[64], link[512];
	ssize_t n;
	int fd, err;

	h.id = id;
	fd = open_by_handle_at(s->cg_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE || errno == ENOENT ? -ENODEV : -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	link[n] = '\0';
	err = fog_net_cgroup_rel(s->cg_mount, link, out, len);
	return err == -ENOENT ? -ENODEV : err;
}

/* fog_net_name_fn for cgroup ids: file handles, else a walk of the hierarchy */
static int cg_name(__u64 id, char *name, size_t len, void *ctx)
{
	struct net_state *s = ctx;
	const char *path;
	int err = cg_path_by_handle(s, id, name, len);

	if (!err || err == -ENODEV)
		return err;
	/* a walk cannot tell a removed cgroup from one it has not seen yet */
	path = fog_cgroup_cache__path(s->cg_walk, id);
	if (!path)
		return -ENOENT;
	snprintf(name, len, "%s", path);
	return 0;
}

/*
 * Finds the cgroup v2 mount, opens it and sets up the id-to-path cache. On
 * failure fills s->cg_reason and returns a negative errno.
 */
static int cg_prepare(struct fog_collector *c, struct net_state *s)
{
	struct fog_collect *o = c->owner;
	struct fog_cgroup_info info;
	unsigned int n;
	int err;

	if (o->cgroup.mode == FOG_CGROUP_V2 && o->cgroups) {
		info = o->cgroup;
	} else {
		err = fog_cgroup_detect("v2", &info);
		if (err) {
			snprintf(s->cg_reason, sizeof(s->cg_reason),
				 "no cgroup2 mount in /proc/self/mountinfo");
			return err;
		}
	}
	snprintf(s->cg_mount, sizeof(s->cg_mount), "%s", info.mount);
	s->cg_fd = open(s->cg_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->cg_fd < 0) {
		err = -errno;
		snprintf(s->cg_reason, sizeof(s->cg_reason), "cannot open %.200s: %s", s->cg_mount,
			 strerror(-err));
		return err;
	}
	if (o->cgroup.mode == FOG_CGROUP_V2 && o->cgroups) {
		s->cg_walk = o->cgroups;
	} else {
		s->cg_own = fog_cgroup_cache__new(&info, o->cfg->max_cgroups * 4);
		s->cg_walk = s->cg_own;
	}
	n = o->cfg->max_cgroups < FOG_NET_MAX_CGROUPS ? o->cfg->max_cgroups : FOG_NET_MAX_CGROUPS;
	s->cg_names = fog_net_names__new(n ? n : 1, cg_name, s);
	s->cg_read = calloc(FOG_NET_MAX_CGROUPS, sizeof(*s->cg_read));
	if (!s->cg_walk || !s->cg_names || !s->cg_read) {
		snprintf(s->cg_reason, sizeof(s->cg_reason), "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void cg_release(struct net_state *s)
{
	if (s->cg_fd >= 0)
		close(s->cg_fd);
	s->cg_fd = -1;
	fog_net_names__free(s->cg_names);
	s->cg_names = NULL;
	fog_cgroup_cache__free(s->cg_own);
	s->cg_own = s->cg_walk = NULL;
	free(s->cg_read);
	s->cg_read = NULL;
	free(s->cg_paths);
	s->cg_paths = NULL;
	s->cg_paths_max = 0;
	s->cg_n = 0;
}

static void net_free_state(struct net_state *s)
{
	if (!s)
		return;
	cg_release(s);
	fog_net_ifaces__free(s->ifaces);
	free(s->values);
	free(s);
}

static struct bpf_link *attach_tp(struct fog_collector *c, struct bpf_program *prog,
				  const char *tp, int *err)
{
	struct bpf_link *link = bpf_program__attach(prog);

	if (!link)
		*err = fog_collector_fail(c, -errno, "cannot attach tracepoint %s: %s", tp,
					  strerror(errno));
	return link;
}

static struct bpf_link *attach_cg(struct fog_collector *c, struct net_state *s,
				  struct bpf_program *prog, const char *sec, int *err)
{
	struct bpf_link *link = bpf_program__attach_cgroup(prog, s->cg_fd);

	if (!link)
		*err = fog_collector_fail(c, -errno, "cannot attach %s to %s: %s", sec,
					  s->cg_mount, strerror(errno));
	return link;
}

/*
 * Opens, loads and attaches the object, with or without the cgroup_skb
 * programs, and pins its maps. On failure c->error says why and nothing is
 * left loaded or attached.
 */
static int net_load(struct fog_collector *c, struct net_state *s, bool with_cgroups)
{
	struct net_bpf *skel;
	int err = 0;

	skel = net_bpf__open();
	if (!skel)
		return fog_collector_fail(c, -errno, "cannot open bpf object net: %s",
					  strerror(errno));
	skel->rodata->cfg_cgroup_mode = fog_collector_cgroup_mode(c);
	skel->rodata->cfg_netns_ino = s->netns_ino;
	bpf_program__set_autoload(skel->progs.handle_cgroup_ingress, with_cgroups);
	bpf_program__set_autoload(skel->progs.handle_cgroup_egress, with_cgroups);
	if (!with_cgroups)
		bpf_map__set_max_entries(skel->maps.net_cgroups, 1); /* unused: keep it small */
	err = net_bpf__load(skel);
	if (err) {
		err = fog_collector_fail(c, err, "cannot load bpf object net: %s (run with "
					 "-o fogd.log_level=debug for the verifier log)",
					 strerror(-err));
		goto out_destroy;
	}
	/* links go into the skeleton, so that net_bpf__destroy detaches them all */
	skel->links.handle_net_dev_xmit =
		attach_tp(c, skel->progs.handle_net_dev_xmit, "net_dev_xmit", &err);
	if (err)
		goto out_destroy;
	skel->links.handle_netif_receive_skb =
		attach_tp(c, skel->progs.handle_netif_receive_skb, "netif_receive_skb", &err);
	if (err)
		goto out_destroy;
	if (with_cgroups) {
		skel->links.handle_cgroup_ingress = attach_cg(
			c, s, skel->progs.handle_cgroup_ingress, "cgroup_skb/ingress", &err);
		if (err)
			goto out_destroy;
		skel->links.handle_cgroup_egress = attach_cg(
			c, s, skel->progs.handle_cgroup_egress, "cgroup_skb/egress", &err);
		if (err)
			goto out_destroy;
	}
	err = fog_collector_pin_maps(c, skel->obj);
	if (err)
		goto out_destroy;
	s->skel = skel;
	return 0;

out_destroy:
	net_bpf__destroy(skel);
	return err;
}

static int net_start(struct fog_collector *c)
{
	struct fog_collect *o = c->owner;
	struct net_state *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return fog_collector_fail(c, -ENOMEM, "out of memory");
	s->cg_fd = -1;
	s->values = calloc(o->ncpu, sizeof(struct fog_net_counters));
	s->ifaces = fog_net_ifaces__new(FOG_NET_MAX_IFACES, fog_net_ifname_sys, NULL);
	if (!s->values || !s->ifaces) {
		err = fog_collector_fail(c, -ENOMEM, "out of memory");
		goto out_free;
	}
	s->netns_ino = self_netns_ino();
	s->cg_wanted = o->cfg->net_cgroup_skb;
	if (!s->cg_wanted)
		snprintf(s->cg_reason, sizeof(s->cg_reason),
			 "turned off in the configuration (net.cgroup_skb)");
	else if (!cg_prepare(c, s))
		s->cg_available = true;

	if (s->cg_available) {
		err = net_load(c, s, true);
		if (err) {
			_Static_assert(sizeof(s->cg_reason) == sizeof(c->error), "reason fits");
			memcpy(s->cg_reason, c->error, sizeof(s->cg_reason));
			c->error[0] = '\0';
			s->cg_available = false;
		}
	}
	if (!s->cg_available) {
		cg_release(s);
		err = net_load(c, s, false);
		if (err)
			goto out_free;
		if (s->cg_wanted) /* running, with a part missing: the framework says so */
			snprintf(c->error, sizeof(c->error),
				 "per-cgroup traffic unavailable: %.200s", s->cg_reason);
	}
	c->priv = s;
	c->obj = s->skel->obj;
	return 0;

out_free:
	net_free_state(s);
	return err;
}

static void net_stop(struct fog_collector *c)
{
	struct net_state *s = c->priv;

	if (!s)
		return;
	fog_collector_unpin_maps(c, s->skel->obj);
	net_bpf__destroy(s->skel);
	net_free_state(s);
	c->priv = NULL;
	c->obj = NULL;
}

/* ---- reading the maps ---- */

static void read_ifaces(struct fog_collector *c, struct net_state *s, __u64 now)
{
	struct fog_collect *o = c->owner;
	int fd = bpf_map__fd(s->skel->maps.net_ifaces);
	__u32 key, next, *prev = NULL, gone[64];
	unsigned int n_gone = 0;
	struct fog_net_counters sum;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		int err;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, s->values))
			continue; /* deleted meanwhile */
		fog_percpu_sum(&sum, s->values, o->ncpu, sizeof(sum), sizeof(sum));
		err = fog_net_ifaces__update(s->ifaces, key, &sum, o->ticks, now, o->tick_seconds);
		if (err == -ENODEV && n_gone < sizeof(gone) / sizeof(gone[0]))
			gone[n_gone++] = key;
		else if (err && err != -ENODEV)
			fog_debug("net: interface %u not tracked: %s", key, strerror(-err));
	}
	/* deleted after the walk: deleting the current key would restart it */
	for (unsigned int i = 0; i < n_gone; i++) {
		fog_debug("net: interface %u is gone", gone[i]);
		bpf_map_delete_elem(fd, &gone[i]);
	}
	fog_net_ifaces__sweep(s->ifaces, o->ticks);
}

static int cg_reserve_paths(struct net_state *s, unsigned int n)
{
	char(*p)[FOG_NET_NAME_LEN];

	if (n <= s->cg_paths_max)
		return 0;
	p = realloc(s->cg_paths, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->cg_paths = p;
	s->cg_paths_max = n;
	return 0;
}

static void read_cgroups(struct fog_collector *c, struct net_state *s, __u64 now)
{
	struct fog_collect *o = c->owner;
	int fd = bpf_map__fd(s->skel->maps.net_cgroups);
	__u64 key, next, *prev = NULL;
	unsigned int n = 0, top, kept = 0;

	while (n < FOG_NET_MAX_CGROUPS && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, s->values))
			continue;
		s->cg_read[n].id = key;
		fog_percpu_sum(&s->cg_read[n].total, s->values, o->ncpu,
			       sizeof(struct fog_net_counters), sizeof(struct fog_net_counters));
		n++;
	}
	top = fog_net_cgroups_top(s->cg_read, n, o->cfg->max_cgroups);
	if (cg_reserve_paths(s, top)) {
		fog_warnx("net: out of memory for %u cgroup paths", top);
		s->cg_n = 0;
		return;
	}
	for (unsigned int i = 0; i < top; i++) {
		const char *path;

		if (fog_net_names__get(s->cg_names, s->cg_read[i].id, now, &path) == -ENODEV) {
			/* removed: its series ends, and its map entry makes room */
			bpf_map_delete_elem(fd, &s->cg_read[i].id);
			continue;
		}
		snprintf(s->cg_paths[kept], sizeof(s->cg_paths[kept]), "%s", path ? path : "");
		s->cg_read[kept] = s->cg_read[i];
		kept++;
	}
	s->cg_n = kept;
}

static void net_tick(struct fog_collector *c, __u64 now)
{
	struct net_state *s = c->priv;

	read_ifaces(c, s, now);
	if (s->cg_available)
		read_cgroups(c, s, now);
}

static json_t *cgroups_json(const struct net_state *s)
{
	json_t *o = json_object(), *items = json_array();

	for (unsigned int i = 0; s->cg_available && i < s->cg_n; i++) {
		const struct fog_net_cgroup *g = &s->cg_read[i];

		const char *path = s->cg_paths[i][0] ? s->cg_paths[i] : NULL;

		json_array_append_new(items, json_pack("{s:I,s:o,s:I,s:I,s:I,s:I}", "cgroup_id",
						       (json_int_t)g->id, "path",
						       fog_json_text(path), "rx_bytes",
						       (json_int_t)g->total.rx_bytes, "tx_bytes",
						       (json_int_t)g->total.tx_bytes, "rx_packets",
						       (json_int_t)g->total.rx_packets, "tx_packets",
						       (json_int_t)g->total.tx_packets));
	}
	json_object_set_new(o, "available", json_boolean(s->cg_available));
	json_object_set_new(o, "reason", s->cg_available ? json_null() : json_string(s->cg_reason));
	json_object_set_new(o, "items", items);
	return o;
}

static json_t *net_json(struct fog_collector *c)
{
	struct net_state *s = c->priv;
	json_t *j = json_object();

	json_object_set_new(j, "interfaces", fog_net_ifaces__json(s->ifaces));
	json_object_set_new(j, "cgroups", cgroups_json(s));
	return j;
}

/* Per-cgroup counting is decided at load: switching it reloads the collector. */
static void net_reconfigure(struct fog_collector *c, const struct fog_config *cfg)
{
	struct net_state *s = c->priv;
	int err;

	if (cfg->net_cgroup_skb == s->cg_wanted)
		return;
	fog_info("net: reloading to turn per-cgroup traffic %s (counters start over)",
		 cfg->net_cgroup_skb ? "on" : "off");
	net_stop(c);
	c->error[0] = '\0';
	err = net_start(c);
	if (err) {
		c->state = FOG_COLLECTOR_UNAVAILABLE;
		fog_warnx("collector net unavailable: %s", c->error);
	}
}

static void iface_family(struct fog_prom *w, json_t *ifaces, const char *name, const char *help,
			 const char *key)
{
	json_t *i;
	size_t n;
	char idx[16];

	fog_prom__family(w, name, FOG_PROM_COUNTER, help);
	json_array_foreach(ifaces, n, i) {
		const char *dev = json_string_value(json_object_get(i, "name"));

		snprintf(idx, sizeof(idx), "%lld", json_integer_value(json_object_get(i, "ifindex")));
		fog_prom__sample(w, (const char *[]){ "device", dev ? dev : idx, NULL },
				 json_number_value(json_object_get(i, key)));
	}
}

static void cgroup_family(struct fog_prom *w, const struct net_state *s, const char *name,
			  const char *help, size_t offset)
{
	fog_prom__family(w, name, FOG_PROM_COUNTER, help);
	for (unsigned int i = 0; i < s->cg_n; i++) {
		const char *label = s->cg_paths[i];
		__u64 v;

		if (!label[0])
			continue; /* an id that did not resolve is not exported under a made-up name */
		memcpy(&v, (const char *)&s->cg_read[i].total + offset, sizeof(v));
		fog_prom__sample(w, (const char *[]){ "cgroup", label, NULL }, (double)v);
	}
}

/* node_exporter's network names, per interface; per cgroup when cgroup_skb runs */
static void net_metrics(struct fog_collector *c, struct fog_prom *w)
{
	struct net_state *s = c->priv;
	json_t *ifaces;

	if (!s)
		return;
	ifaces = fog_net_ifaces__json(s->ifaces);
	iface_family(w, ifaces, "fog_network_receive_bytes", "bytes received", "rx_bytes");
	iface_family(w, ifaces, "fog_network_transmit_bytes", "bytes transmitted", "tx_bytes");
	iface_family(w, ifaces, "fog_network_receive_packets", "packets received", "rx_packets");
	iface_family(w, ifaces, "fog_network_transmit_packets", "packets transmitted",
		     "tx_packets");
	json_decref(ifaces);
	if (!s->cg_available)
		return;
	cgroup_family(w, s, "fog_cgroup_network_receive_bytes",
		      "bytes received by the sockets of a cgroup, from the network header",
		      offsetof(struct fog_net_counters, rx_bytes));
	cgroup_family(w, s, "fog_cgroup_network_transmit_bytes",
		      "bytes sent by the sockets of a cgroup, from the network header",
		      offsetof(struct fog_net_counters, tx_bytes));
}

const struct fog_collector_ops fog_net_collector = {
	.name = "net",
	.enabled = net_enabled,
	.start = net_start,
	.stop = net_stop,
	.tick = net_tick,
	.to_json = net_json,
	.reconfigure = net_reconfigure,
	.metrics = net_metrics,
};
