#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages fogd needs to build, run, test and benchmark.
# Only packages that are missing are installed; apt-get update runs at most once.
set -eu

pkgs=(
	make gcc clang llvm pkg-config bpftool
	libbpf-dev libelf-dev zlib1g-dev
	libinih-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libcap-ng-dev
	libcmocka-dev
	linux-perf stress-ng fio iproute2 procps util-linux curl jq
)

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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
