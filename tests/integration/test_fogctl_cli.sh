#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fogctl's shared pieces against a real fogd: with --json (before or after the command) an
# error is one JSON object on stdout, {"error": ..., "status": N} with fogd's HTTP status when
# fogd refused and no status when it never answered; without --json errors are one line on
# stderr and stdout stays empty. Durations reach fogd as the one syntax says (1.5m is 90000
# ms), a bad one is refused before any request, naming the option and the value; a profile
# of 1.5s lasts 2 s in fogd and says so. --socket reaches the families' commands without going
# through the environment.
. "$(dirname "$0")/lib.sh"
t_require_root_btf

fogd_start
ctl() { "$FOGCTL" "$@"; }
# runs fogctl, stdout to $T_DIR/out, stderr to $T_DIR/err; prints the exit status
run() {
	local rc=0
	"$FOGCTL" "$@" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
	echo "$rc"
}
one_json() { jq -e -s 'length == 1 and (.[0] | type) == "object"' "$T_DIR/out" >/dev/null; }

# ---- fogd refused: 404 and 422, --json before and after the command ----
for args in "--json sched show nosuch" "sched show nosuch --json"; do
	# shellcheck disable=SC2086
	rc=$(run $args)
	[ "$rc" = 1 ] || t_fail "fogctl $args exited $rc"
	one_json || t_fail "fogctl $args: stdout is not one JSON object: $(cat "$T_DIR/out")"
	jq -e '.status == 404 and (.error | test("nosuch"))' "$T_DIR/out" >/dev/null ||
		t_fail "fogctl $args: $(cat "$T_DIR/out")"
	[ ! -s "$T_DIR/err" ] || t_fail "fogctl $args wrote to stderr: $(cat "$T_DIR/err")"
done
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
huge=$((mem_kb / 1024 * 4))
rc=$(run sched submit --id huge --cpu 1 --mem "$huge" --json -- true)
[ "$rc" = 1 ] || t_fail "a task of $huge MiB: exit $rc"
one_json && jq -e --arg m "no worker has $huge MiB of memory" '.status == 422 and (.error | contains($m))' \
	"$T_DIR/out" >/dev/null || t_fail "the 422 in JSON: $(cat "$T_DIR/out")"
# plain: one line on stderr with the status, nothing on stdout
rc=$(run sched submit --id huge --cpu 1 --mem "$huge" -- true)
[ "$rc" = 1 ] && [ ! -s "$T_DIR/out" ] || t_fail "plain refusal: exit $rc, stdout $(cat "$T_DIR/out")"
grep -qx "fogctl sched submit: no worker has $huge MiB of memory.* (HTTP 422)" "$T_DIR/err" ||
	t_fail "plain refusal on stderr: $(cat "$T_DIR/err")"

# ---- fogd not there: an error without a status ----
rc=$(run --socket "$T_DIR/nosock" --json status)
[ "$rc" = 1 ] || t_fail "status without fogd exited $rc"
one_json && jq -e '(has("status") | not) and (.error | test("cannot reach fogd on .*nosock"))' \
	"$T_DIR/out" >/dev/null || t_fail "unreachable fogd in JSON: $(cat "$T_DIR/out")"

# ---- --socket reaches a family's command with the environment pointing elsewhere ----
FOGCTL_SOCKET="$T_DIR/nosock" "$FOGCTL" --socket "$FOG_SOCK" sched stats --json >"$T_DIR/out" ||
	t_fail "sched stats over --socket failed"
jq -e 'has("decisions")' "$T_DIR/out" >/dev/null || t_fail "sched stats: $(cat "$T_DIR/out")"

# ---- durations: what fogd receives ----
ctl sched submit --id dur-1 --cpu 0.5 --mem 32 --timeout 1.5m --deadline 2h --wait --json -- true \
	>"$T_DIR/out" || t_fail "dur-1 failed: $(cat "$T_DIR/out")"
jq -e '.timeout_ms == 90000 and .deadline_in_s > 7000 and .deadline_in_s <= 7200' "$T_DIR/out" \
	>/dev/null || t_fail "1.5m and 2h as fogd holds them: $(cat "$T_DIR/out")"
ctl sched submit --id dur-2 --cpu 0.5 --mem 32 --timeout 500ms --json -- true >"$T_DIR/out" ||
	t_fail "dur-2 failed: $(cat "$T_DIR/out")"
jq -e '.timeout_ms == 500' "$T_DIR/out" >/dev/null || t_fail "500ms: $(cat "$T_DIR/out")"
# refused before any request: the task is never created
for bad in 5parsecs -1s ms 1.5.5s "" 1sx 1e3; do
	rc=$(run --json sched submit --id dur-bad --timeout "$bad" -- true)
	[ "$rc" = 2 ] || t_fail "--timeout '$bad' exited $rc"
	one_json && jq -e --arg v "--timeout '$bad' is not a duration" '(has("status") | not) and (.error | startswith($v))' \
		"$T_DIR/out" >/dev/null || t_fail "--timeout '$bad': $(cat "$T_DIR/out")"
done
rc=$(run profile -p 1 -d 2parsecs)
[ "$rc" = 2 ] && grep -q "^fogctl profile: -d '2parsecs' is not a duration" "$T_DIR/err" ||
	t_fail "profile -d 2parsecs: exit $rc, $(cat "$T_DIR/err")"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$FOG_SOCK" http://localhost/api/v1/sched/tasks/dur-bad)
[ "$code" = 404 ] || t_fail "a refused duration still created the task ($code)"

# ---- a profile: 1.5s rounds up to the whole seconds fogd profiles for, said on stderr; with
# --json and -o, stdout is one object naming the file and its size ----
sh -c 'while :; do :; done' &
spin=$!
T_CLEANUP_EXTRA="kill $spin 2>/dev/null"
rc=$(run profile -p "$spin" -d 1.5s -o "$T_DIR/p.folded" --json)
[ "$rc" = 0 ] || t_fail "profile -d 1.5s --json exited $rc: $(cat "$T_DIR/out" "$T_DIR/err")"
grep -q "^fogctl profile: -d 1.5s: profiles last whole seconds: 2 s" "$T_DIR/err" ||
	t_fail "no note of the rounding: $(cat "$T_DIR/err")"
size=$(stat -c %s "$T_DIR/p.folded")
one_json && jq -e --arg o "$T_DIR/p.folded" --argjson n "$size" \
	'.output == $o and .bytes == $n and $n > 0 and .format == "folded" and .mode == "cpu" and .seconds == 2 and (.summary | type) == "object"' \
	"$T_DIR/out" >/dev/null || t_fail "profile --json result: $(cat "$T_DIR/out") (file of $size bytes)"
id=$(jq -r .id "$T_DIR/out")
curl -s --unix-socket "$FOG_SOCK" "http://localhost/api/v1/profile/$id" | jq -e '.seconds == 2 and .state == "done"' >/dev/null ||
	t_fail "fogd's profile $id: $(curl -s --unix-socket "$FOG_SOCK" "http://localhost/api/v1/profile/$id")"
kill "$spin" 2>/dev/null

# ---- the families list their commands; an unknown one is named ----
rc=$(run sched frobnicate)
[ "$rc" = 2 ] && grep -q "^fogctl sched: unknown command 'frobnicate'" "$T_DIR/err" ||
	t_fail "sched frobnicate: exit $rc, $(cat "$T_DIR/err")"
"$FOGCTL" profile --help | grep -q '^  continuous ' || t_fail "profile --help lists no continuous"
t_log "JSON errors, durations and --socket checked against fogd"
