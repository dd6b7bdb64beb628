#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages fogd needs to build, run, test and benchmark.
# Only packages that are missing are installed; apt-get update runs at most once.
set -eu

pkgs=(
	make gcc clang llvm pkg-config bpftool
	libbpf-dev libelf-dev zlib1g-dev
	# source lines in profiles (user/profile/elfsym.c)
	libdw-dev
	libinih-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libcap-ng-dev
	libcmocka-dev
	# clang's libFuzzer, ASan and UBSan runtimes (make fuzz)
	libclang-rt-14-dev
	libmimalloc-dev libjemalloc-dev
	protobuf-c-compiler libprotobuf-c-dev protobuf-compiler
	# snappy-compressed remote-write bodies of the uplink (user/uplink/)
	libsnappy-dev
	linux-perf stress-ng fio iproute2 procps util-linux curl jq
	# HTTP load on fogd's listener (make bench); memcheck of the unit tests (make valgrind)
	wrk valgrind
	chromium libxml2-utils
	# the man pages, rendered by the install test (groff -man -ww, man -l)
	groff-base man-db
	prometheus-alertmanager prometheus prometheus-node-exporter
)

# the profiler's tests decode pprof with an npm package: Node.js from Debian when absent
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)

# tasks and alert hooks run as fogd-task ([fogd] run_user, run_group); the symbol helper,
# which parses profiled programs' ELF and DWARF files, as fogd-sym ([fogd] helper_user)
for user in fogd-task fogd-sym; do
	getent passwd "$user" >/dev/null && continue
	if [ "$(id -u)" -eq 0 ]; then
		useradd --system --user-group --no-create-home --home-dir / \
			--shell /usr/sbin/nologin "$user"
		echo "install-deps: created the system user $user"
	else
		echo "install-deps: no user $user; run as root to create it" >&2
	fi
done

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The Prometheus packages would start services listening on every interface:
# tests start their binaries on 127.0.0.1 instead, so services stay off.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	own_policy=1
fi
apt-get update -qq
rc=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
[ "$own_policy" -eq 1 ] && rm -f "$policy"
exit "$rc"
