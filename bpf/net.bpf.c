// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network traffic for the net collector: bytes and packets per interface in
 * both directions from the device tracepoints, and per cgroup v2 from
 * cgroup_skb programs attached to the hierarchy's root. Everything adds up in
 * per-CPU maps that user space reads on its tick; nothing goes out per packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog.bpf.h"
#include "fog/abi/net.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Inode of fogd's network namespace (/proc/self/ns/net): ifindex is only
 * unique within a namespace, so devices of other namespaces (the inside ends
 * of container veths) are left out instead of being mixed up with ours. 0
 * counts every namespace.
 */
const volatile __u32 cfg_netns_ino = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FOG_NET_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct fog_net_counters);
} net_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FOG_NET_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct fog_net_counters);
} net_cgroups SEC(".maps");

static const struct fog_net_counters zero_counters;

/* NETDEV_TX_OK: any other code means the device did not take the frame */
#define NET_TX_OK 0
/* skb->mac_header when no link-layer header was set (u16)~0U */
#define NET_MAC_UNSET 0xffff
/* longest link-layer header counted back into a received frame */
#define NET_MAC_MAX 128

static __always_inline struct fog_net_counters *counters(void *map, const void *key)
{
	struct fog_net_counters *c = bpf_map_lookup_elem(map, key);

	if (c)
		return c;
	/* fails when the interface map is full: that interface is then not counted */
	bpf_map_update_elem(map, key, &zero_counters, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* The device's interface index, or 0 if it belongs to another network namespace. */
static __always_inline __u32 dev_ifindex(struct net_device *dev)
{
	__u32 want = cfg_netns_ino;

	if (want && dev->nd_net.net->ns.inum != want)
		return 0;
	return dev->ifindex;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(handle_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev,
	     unsigned int skb_len)
{
	struct fog_net_counters *c;
	__u32 ifindex;

	/* a busy device gets the frame again later: count the attempt that succeeds */
	if (rc != NET_TX_OK)
		return 0;
	/* the skb may already be freed here (loopback hands it on): use skb_len only */
	ifindex = dev_ifindex(dev);
	if (!ifindex)
		return 0;
	c = counters(&net_ifaces, &ifindex);
	if (!c)
		return 0;
	c->tx_bytes += skb_len;
	c->tx_packets++;
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(handle_netif_receive_skb, struct sk_buff *skb)
{
	struct fog_net_counters *c;
	__u32 ifindex, len = skb->len;
	__u16 mac = skb->mac_header;

	ifindex = dev_ifindex(skb->dev);
	if (!ifindex)
		return 0;
	/*
	 * The driver has already pulled the link-layer header (eth_type_trans):
	 * add it back so that a frame counts the same on both sides of a link.
	 */
	if (mac != NET_MAC_UNSET) {
		long hdr = (long)(skb->data - skb->head) - mac;

		if (hdr > 0 && hdr <= NET_MAC_MAX)
			len += hdr;
	}
	c = counters(&net_ifaces, &ifindex);
	if (!c)
		return 0;
	c->rx_bytes += len;
	c->rx_packets++;
	return 0;
}

/* cgroup_skb programs see the skb from the network header; they always let it pass */
static __always_inline void count_cgroup(struct __sk_buff *skb, bool egress)
{
	struct fog_net_counters *c;
	__u64 id = bpf_skb_cgroup_id(skb);

	if (!id)
		return;
	c = counters(&net_cgroups, &id);
	if (!c)
		return;
	if (egress) {
		c->tx_bytes += skb->len;
		c->tx_packets++;
	} else {
		c->rx_bytes += skb->len;
		c->rx_packets++;
	}
}

SEC("cgroup_skb/ingress")
int handle_cgroup_ingress(struct __sk_buff *skb)
{
	count_cgroup(skb, false);
	return 1;
}

SEC("cgroup_skb/egress")
int handle_cgroup_egress(struct __sk_buff *skb)
{
	count_cgroup(skb, true);
	return 1;
}
