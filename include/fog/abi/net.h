/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps of bpf/net.bpf.c, read by the net collector. */
#ifndef FOG_ABI_NET_H
#define FOG_ABI_NET_H

/* net_ifaces: interfaces of fogd's network namespace, keyed by ifindex */
#define FOG_NET_MAX_IFACES 1024
/* net_cgroups: cgroup v2 ids, least recently updated evicted first */
#define FOG_NET_MAX_CGROUPS 4096

/*
 * Per-CPU traffic counters, the value of both maps. Interfaces count frames
 * as the device sends and receives them, link-layer header included; cgroups
 * count what their sockets send and receive, from the network header on. A
 * GSO or GRO aggregate counts as one packet.
 */
struct fog_net_counters {
	__u64 rx_bytes;
	__u64 rx_packets;
	__u64 tx_bytes;
	__u64 tx_packets;
};

#endif /* FOG_ABI_NET_H */
