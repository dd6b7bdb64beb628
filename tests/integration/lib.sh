# SPDX-License-Identifier: GPL-2.0-only
# Shared by the integration tests: start a private fogd, query its API, wait for figures.
# A test exits 0 on pass, 77 to skip (with a message saying why), anything else on failure.

set -u
: "${OUTPUT:=build}"
FOGD="$OUTPUT/fogd"
FOGCTL="$OUTPUT/fogctl"
HELPERS="$OUTPUT/tests/helpers"
T_DIR=$(mktemp -d /tmp/fogd-test.XXXXXX)
FOG_SOCK="$T_DIR/fogd.sock"
FOG_PINS="/sys/fs/bpf/fogd-test-$$"
# the executor's cgroup folder, private too: fogds side by side must not remove each other's
FOG_TASK_CG="fogd-tasks-test-$$"
FOGD_PID=
FOGD_LOG="$T_DIR/fogd.log"
# tasks run as the unprivileged [fogd] run_user (fogd-task): what they write and run lives in
# T_TASK_DIR, which t_task_dir makes theirs (T_DIR itself stays root's, 0711)
T_TASK_USER=fogd-task
T_TASK_DIR="$T_DIR/task"
t_task_dir() {
	getent passwd "$T_TASK_USER" >/dev/null || t_fail "no user $T_TASK_USER (make deps creates it)"
	chmod 0711 "$T_DIR"
	mkdir -p "$T_TASK_DIR"
	chown "$T_TASK_USER:$T_TASK_USER" "$T_TASK_DIR"
}
export FOGCTL_SOCKET="$FOG_SOCK"
# the body of the last answer t_code or t_tcp_code got
T_BODY="$T_DIR/body"

# t_log, t_fail and t_skip write to the test's stderr, fd T_ERR inside t_wait_for
t_log() { printf '  %s\n' "$*" >&"${T_ERR:-2}"; }
t_fail() {
	printf '  FAIL: %s\n' "$*" >&"${T_ERR:-2}"
	if [ -s "$FOGD_LOG" ]; then
		printf '  --- fogd log (last 30 lines) ---\n' >&"${T_ERR:-2}"
		{ grep -A14 "ERROR: AddressSanitizer" "$FOGD_LOG" | head -16; tail -n 30 "$FOGD_LOG"; } |
			sed 's/^/  | /' >&"${T_ERR:-2}"
	fi
	exit 1
}
# t_fail after a SIGKILL to fogd: for a hostile case that may have hung it (the clean-up's
# SIGTERM would wait for it).
t_fail_kill() {
	[ -n "$FOGD_PID" ] && kill -KILL "$FOGD_PID" 2>/dev/null
	t_fail "$@"
}
t_skip() { printf '  SKIP: %s\n' "$*" >&"${T_ERR:-2}"; exit 77; }

# Milliseconds of the wall clock (bash's EPOCHREALTIME, whatever the locale's decimal point).
t_now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}

# t_wait_for TIMEOUT_S DESCRIPTION COMMAND...: runs COMMAND until it succeeds, every
# T_WAIT_EVERY seconds (0.1 unless set, e.g. `T_WAIT_EVERY=0.5 t_wait_for ...` for a heavy
# query); after TIMEOUT_S fails the test naming DESCRIPTION (what was awaited) and COMMAND's
# last output. TIMEOUT_S is a generous bound that tells a hang from an answer (a sanitizer
# build on a loaded host), never a performance assertion. COMMAND runs in this shell: it may
# set variables or call t_fail (a helper that died, say); its output goes to $T_DIR/wait.out.
# T_WAIT_FAIL names a function to fail with instead of t_fail (one that kills fogd first, say).
t_wait_for() {
	local timeout=$1 desc=$2 deadline err
	shift 2
	deadline=$(($(t_now_ms) + timeout * 1000))
	# the test's stderr for the command's t_fail, open only while it waits (nothing that
	# outlives the test inherits it)
	exec {err}>&2
	while :; do
		if T_ERR=$err "$@" >"$T_DIR/wait.out" 2>&1; then
			exec {err}>&-
			return 0
		fi
		[ "$(t_now_ms)" -ge "$deadline" ] && break
		sleep "${T_WAIT_EVERY:-0.1}"
	done
	exec {err}>&-
	"${T_WAIT_FAIL:-t_fail}" "$desc: not within $timeout s (last output: $(tail -c 600 "$T_DIR/wait.out" | tr '\n' ' '))"
}

t_cleanup() {
	if [ -n "$FOGD_PID" ] && kill -0 "$FOGD_PID" 2>/dev/null; then
		kill -TERM "$FOGD_PID" 2>/dev/null
		wait "$FOGD_PID" 2>/dev/null
	fi
	[ -n "${T_CLEANUP_EXTRA:-}" ] && eval "$T_CLEANUP_EXTRA"
	# a v1 cpu folder of the executor outlives fogd where fogd's own folder is writable only
	# with the capabilities it dropped (the hierarchy's root is mode 0555)
	local h own
	for h in cpu memory; do
		own=$(t_own_cgroup "$h" self)
		[ -n "$own" ] && rmdir "/sys/fs/cgroup/$h${own%/}/$FOG_TASK_CG" 2>/dev/null
	done
	rm -rf "$FOG_PINS" 2>/dev/null
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

# Skips unless running as root on a kernel with BTF.
t_require_root_btf() {
	[ "$(id -u)" -eq 0 ] || t_skip "needs root (loads BPF programs)"
	[ -r /sys/kernel/btf/vmlinux ] || t_skip "kernel has no BTF (/sys/kernel/btf/vmlinux)"
}

# Starts fogd with a private socket and pin folder; extra arguments go to fogd.
fogd_start() {
	# no TCP listener unless a test asks for one (-o http.listen=... later wins)
	"$FOGD" -o fogd.socket="$FOG_SOCK" -o fogd.pin_path="$FOG_PINS" -o http.listen=off \
		-o sched.cgroup="$FOG_TASK_CG" "$@" >"$FOGD_LOG" 2>&1 &
	FOGD_PID=$!
	# generous: a sanitizer build on a loaded host loads its BPF programs slowly
	t_wait_for 60 "fogd answering on $FOG_SOCK" fogd_answers
}
fogd_answers() {
	kill -0 "$FOGD_PID" 2>/dev/null || t_fail "fogd exited during start-up"
	[ -S "$FOG_SOCK" ] && api /api/v1/status >/dev/null
}

# Stops fogd with SIGTERM and checks it exits 0.
fogd_stop() {
	local rc=0
	kill -TERM "$FOGD_PID"
	wait "$FOGD_PID" || rc=$?
	FOGD_PID=
	[ "$rc" -eq 0 ] || t_fail "fogd exited with status $rc after SIGTERM"
}

# GET an API path from the running fogd; prints the body.
api() {
	curl -sf --max-time 5 --unix-socket "$FOG_SOCK" "http://localhost$1"
}

# t_post PATH JSON: POSTs JSON to PATH on fogd's socket; prints the answer's body, whatever
# its status.
t_post() {
	curl -s --max-time 10 --unix-socket "$FOG_SOCK" -X POST -H 'Content-Type: application/json' \
		-d "$2" "http://localhost$1"
}

# t_code METHOD PATH [BODY]: sends METHOD PATH (with the JSON BODY if given) to fogd's
# socket; prints the HTTP status, the answer's body is in $T_BODY. The answer may take
# T_MAX_TIME seconds (10 unless set).
t_code() {
	local method=$1 path=$2 data=()
	[ $# -ge 3 ] && data=(-H 'Content-Type: application/json' -d "$3")
	curl -s -o "$T_BODY" -w '%{http_code}' --max-time "${T_MAX_TIME:-10}" --unix-socket "$FOG_SOCK" \
		-X "$method" "${data[@]}" "http://localhost$path"
}

# t_tcp_code METHOD URL [BODY]: t_code over TCP (fogd's http.listen, or any server) to a
# whole URL; prints the HTTP status, the body is in $T_BODY.
t_tcp_code() {
	local method=$1 url=$2 data=()
	[ $# -ge 3 ] && data=(-H 'Content-Type: application/json' -d "$3")
	curl -s -o "$T_BODY" -w '%{http_code}' --max-time 5 -X "$method" "${data[@]}" "$url"
}

# fogctl's scheduler commands against the test's fogd.
t_sched() { "$FOGCTL" sched "$@"; }

# Runs a command as nobody (no supplementary groups): the tenant of the hostile tests.
t_as_nobody() { setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups "$@"; }

# fogd's resident set in MiB.
t_rss_mib() { awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$FOGD_PID/status"; }

# Waits until `api PATH | jq -e FILTER` succeeds; FILTER may use --arg pairs after it.
t_wait_json() {
	local path=$1 filter=$2 timeout=${3:-10}
	shift 3 || shift $#
	local deadline=$((SECONDS + timeout)) body
	while [ "$SECONDS" -lt "$deadline" ]; do
		# jq -e exits 0 on empty input: an error answer (curl -f prints nothing) is no match
		if body=$(api "$path") && [ -n "$body" ] &&
			jq -e "$@" "$filter" <<<"$body" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

# Fails unless the named collector is running.
t_require_collector() {
	local state
	state=$(api /api/v1/status | jq -r --arg n "$1" '.collectors[] | select(.name == $n) | .state')
	[ "$state" = "running" ] || t_fail "collector $1 is '$state': $(api /api/v1/status | jq -c --arg n "$1" '.collectors[] | select(.name == $n)')"
}

# A free TCP port on 127.0.0.1.
t_free_port() {
	local p i
	for i in {1..50}; do	# tries, not a wait
		p=$((20000 + RANDOM % 30000))
		if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	t_fail "no free port found"
}

# Starts a real Prometheus on 127.0.0.1:$1 scraping fogd at $2 (host:port) every second;
# sets PROM_PID (the caller kills it, e.g. in T_CLEANUP_EXTRA).
t_prometheus_start() {
	cat >"$T_DIR/prom.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fogd
    static_configs:
      - targets: ['$2']
YML
	prometheus --config.file="$T_DIR/prom.yml" --storage.tsdb.path="$T_DIR/tsdb" \
		--web.listen-address=127.0.0.1:"$1" >"$T_DIR/prom.log" 2>&1 &
	PROM_PID=$!
}

# Starts a real Alertmanager ($AM_BIN, set by the caller) on 127.0.0.1:$1 routing every alert
# to a receiver that drops it; sets AM_PID (the caller kills it, e.g. in T_CLEANUP_EXTRA) and
# returns once it is ready. Its log is $T_DIR/alertmanager.log.
t_alertmanager_start() {
	printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$T_DIR/alertmanager.yml"
	"$AM_BIN" --config.file="$T_DIR/alertmanager.yml" --storage.path="$T_DIR/am-data" \
		--web.listen-address="127.0.0.1:$1" --cluster.listen-address= \
		--log.level=warn >>"$T_DIR/alertmanager.log" 2>&1 &
	AM_PID=$!
	t_wait_for 30 "alertmanager ready on 127.0.0.1:$1" alertmanager_ready "$1"
}
alertmanager_ready() {
	kill -0 "$AM_PID" 2>/dev/null || t_fail "alertmanager exited: $(tail -n 5 "$T_DIR/alertmanager.log")"
	curl -sf --max-time 1 "http://127.0.0.1:$1/-/ready"
}

# The v1 cgroup of process $2 (a pid, or self) in hierarchy $1 (cpu, memory), "" if none.
t_own_cgroup() {
	awk -F: -v h="$1" '$2 ~ ("(^|,)" h "(,|$)") { print $3 }' "/proc/$2/cgroup"
}

# what fogd's threads were doing (runnable: starved by the load; sleeping: blocked) and the load
fogd_state() {
	local t
	for t in /proc/"$FOGD_PID"/task/*; do
		printf '%s %s %s; ' "$(cat "$t/comm")" "$(awk '{ print $3 }' "$t/stat")" "$(cat "$t/wchan")"
	done 2>/dev/null
	printf 'loadavg %s' "$(cut -d' ' -f1-3 /proc/loadavg)"
}
