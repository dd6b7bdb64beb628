#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every tests/integration/test_*.sh; each passes (0), skips (77) or fails.
set -u
cd "$(dirname "$0")/../.."
: "${OUTPUT:=build}"
export OUTPUT
pass=0 fail=0 skip=0 failed=()
for t in tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]] && continue
	printf 'integration %-28s ' "$name"
	start=$SECONDS
	out=$(timeout 300 bash "$t" 2>&1)
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "ok ($((SECONDS - start)) s)" ;;
	77) skip=$((skip + 1)); echo "skipped"; printf '%s\n' "$out" | grep SKIP ;;
	*) fail=$((fail + 1)); failed+=("$name"); echo "FAILED (status $rc)"; printf '%s\n' "$out" ;;
	esac
done
echo "integration: $pass passed, $skip skipped, $fail failed ${failed[*]:-}"
[ "$fail" -eq 0 ]
