#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A tenant's hostile profile (issue 12 finding 5): a program run as nobody with 20,000 small
# functions and a comm that is not valid UTF-8 and holds ';', profiled through fogd into
# folded, HTML, speedscope and pprof. fogd's API answers while it renders; every output is
# valid: UTF-8, folded lines "frames value" with the comm as one field, speedscope samples
# indexing frames that exist, pprof a gzip stream.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v gcc >/dev/null || t_skip "needs gcc"

chmod 755 "$T_DIR"
{
	echo '#include <stdio.h>'
	echo '#include <sys/prctl.h>'
	echo '#include <time.h>'
	for i in $(seq 0 19999); do
		echo "__attribute__((noinline)) unsigned long f_$i(unsigned long x) { return x * $i + 7; }"
	done
	echo 'static unsigned long (*const tab[])(unsigned long) = {'
	for i in $(seq 0 19999); do echo "f_$i,"; done
	echo '};'
	cat <<'C'
int main(void)
{
	volatile unsigned long x = 1;
	time_t end = time(NULL) + 8;

	prctl(PR_SET_NAME, "h\xff;x\xfe\n", 0, 0, 0);
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < end)
		for (unsigned int i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
			x = tab[i](x);
	return (int)(x & 1) * 0;
}
C
} >"$T_DIR/hostile.c"
gcc -O1 -o "$T_DIR/hostile" "$T_DIR/hostile.c" || t_fail "cannot build the hostile program"
chmod 755 "$T_DIR/hostile"

fogd_start
setpriv --reuid=nobody --regid=nogroup --clear-groups "$T_DIR/hostile" >"$T_DIR/h.out" &
h=$!
T_CLEANUP_EXTRA="kill $h 2>/dev/null"
t_wait_for 30 "the hostile program printed its pid" test -s "$T_DIR/h.out"
r=$(t_post /api/v1/profile "{\"pid\": $h, \"seconds\": 4}")
id=$(echo "$r" | jq -e .id) || t_fail "POST /api/v1/profile: $r"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 30 || t_fail "profile not done"

# render every format while asking for the status: the API answers at all meanwhile
for fmt in folded html speedscope pprof; do
	api "/api/v1/profile/$id/$fmt" >"$T_DIR/out.$fmt" &
	api /api/v1/status >"$T_DIR/status.$fmt" || t_fail "status not answered while rendering $fmt"
	wait $! || t_fail "no $fmt output"
	jq -e . "$T_DIR/status.$fmt" >/dev/null || t_fail "status while rendering $fmt is not JSON"
done

for fmt in folded html speedscope; do
	iconv -f UTF-8 -t UTF-8 "$T_DIR/out.$fmt" >/dev/null || t_fail "$fmt output is not valid UTF-8"
done
[ -s "$T_DIR/out.folded" ] || t_fail "empty folded output"
# "comm;frame;...;frame value": the value is a number and the comm (first field) has no ';'
awk '{ if ($NF !~ /^[0-9]+$/) bad++ } END { exit bad > 0 }' "$T_DIR/out.folded" ||
	t_fail "folded lines without a value: $(head -3 "$T_DIR/out.folded")"
awk -F';' '$1 !~ /^h.*:x/ { bad++ } END { exit bad > 0 }' "$T_DIR/out.folded" ||
	t_fail "the comm is not one field: $(cut -d';' -f1-2 "$T_DIR/out.folded" | sort -u | head -3)"
grep -q ';f_[0-9]* [0-9]*$' "$T_DIR/out.folded" || t_fail "no f_N leaf in the folded output"
jq -e '(.shared.frames | length) as $n | [.profiles[].samples[][] | select(. < 0 or . >= $n)] |
	length == 0' "$T_DIR/out.speedscope" >/dev/null || t_fail "speedscope samples index missing frames"
jq -e --arg p "$h" '.profiles | length == 1 and (.[0].name | endswith("pid " + $p))' \
	"$T_DIR/out.speedscope" >/dev/null || t_fail "speedscope profile of the wrong process"
gzip -t "$T_DIR/out.pprof" || t_fail "pprof output is not gzip"
# main's loop or one of the f_N: the program's own code, whatever the host's speed
grep -Eq 'hottest user function</th><td>(main|f_[0-9]+),' "$T_DIR/out.html" ||
	t_fail "report's hottest user function: $(grep -o 'hottest user function</th><td>[^<]*' "$T_DIR/out.html")"
wait "$h"
fogd_stop
