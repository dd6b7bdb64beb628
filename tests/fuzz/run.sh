#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs libFuzzer targets built by mk/fuzz.mk: run.sh SECONDS "FLAGS" TARGET...
# Each target fuzzes SECONDS from tests/fuzz/corpus/<target>/ (read only) and its own
# build-fuzz/corpus/<target>/ (where new inputs go); crashers land in
# build-fuzz/crash/<target>/. FUZZ_REPLAY=1 first runs every seed once on its own (the
# seeds hold every crasher found so far, so a regression fails here by name), and the
# reproducers in tests/fuzz/pending/<target>/ (findings whose fix is pending, if any), which
# must not crash, and which fail under FUZZ_PENDING=1 until they are fixed.
# Every target runs even when one fails; the exit status says whether any did.
set -uo pipefail
cd "$(dirname "$0")/../.."

out=${FUZZ_OUT:-build-fuzz}
seconds=$1
flags=$2
shift 2
failed=()
# scratch files of the targets: kept inside the output folder even after a crash
export FUZZ_TMP=$out/tmp
mkdir -p "$FUZZ_TMP"

for t in "$@"; do
	bin=$out/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	dict=tests/fuzz/fuzz_$t.dict
	tflags=$flags
	[ -f "tests/fuzz/fuzz_$t.flags" ] && tflags="$flags $(cat "tests/fuzz/fuzz_$t.flags")"
	log=$out/log/$t.log
	mkdir -p "$out/corpus/$t" "$out/crash/$t" "$out/log"
	if [ "${FUZZ_REPLAY:-0}" = 1 ]; then
		mapfile -t files < <(find "$seeds" "tests/fuzz/pending/$t" -type f 2>/dev/null | sort)
		if [ ${#files[@]} -gt 0 ] &&
		   ! "$bin" $tflags "${files[@]}" >"$out/log/$t.replay.log" 2>&1; then
			echo "fuzz: $t: a seed fails (see $out/log/$t.replay.log):" >&2
			grep -E '^(Running|==[0-9]+==ERROR|SUMMARY)' "$out/log/$t.replay.log" |
				tail -n 5 >&2
			failed+=("$t")
			continue
		fi
	fi
	args=(-max_total_time="$seconds" -artifact_prefix="$out/crash/$t/")
	[ -f "$dict" ] && args+=(-dict="$dict")
	dirs=("$out/corpus/$t")
	[ -d "$seeds" ] && dirs+=("$seeds")
	printf '  %-8s %s (%ss)\n' FUZZ "$t" "$seconds"
	# shellcheck disable=SC2086 # flags are separate words
	if "$bin" $tflags "${args[@]}" "${dirs[@]}" >"$log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | tail -n 1 |
			sed "s/^/           /"
	else
		echo "fuzz: $t failed (log $log); crashers:" >&2
		ls "$out/crash/$t" >&2
		grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error' "$log" | head -n 5 >&2
		failed+=("$t")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failing targets: ${failed[*]}" >&2
	exit 1
fi
