#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs each cmocka test binary given as an argument.
set -u
fail=0
for t in "$@"; do
	if ! "$t"; then
		echo "unit $(basename "$t"): FAILED"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "unit: all $# binaries passed"
exit "$fail"
