/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by the BPF programs and user space: plain fixed-size fields only. */
#ifndef FOG_ABI_COMMON_H
#define FOG_ABI_COMMON_H

#define FOG_COMM_LEN 16

/*
 * Log2 latency histogram in nanoseconds: slot i counts values in [2^i, 2^(i+1)),
 * slot 0 also counts 0; the last slot is open-ended (about 68 s and above).
 */
#define FOG_HIST_SLOTS 37

struct fog_hist {
	__u64 sum_ns;
	__u64 slots[FOG_HIST_SLOTS];
};

#endif /* FOG_ABI_COMMON_H */
