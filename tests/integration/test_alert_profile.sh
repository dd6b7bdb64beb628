#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A profile captured when an alert fires ([monitor] profile_on): four prof_hot burners pinned to
# one CPU make run-queue waits of several scheduler slices, which raise a run-queue latency
# alert (warning threshold 4 ms, far below what four CPU-bound tasks sharing a CPU wait). The
# alert reaches a real Alertmanager with the annotation profile_url = /api/v1/profiles/alert/ID,
# /api/v1/alerts carries the same link and the capture's state, and the profile it links to
# (kept in the continuous ring as alert-ID-cpu-STAMP.pb.gz, with an off-CPU one beside it)
# names prof_hot_leaf as the burners' hottest user function. A hook gets the link in its JSON
# and FOG_ALERT_PROFILE_URL; fogctl alerts shows it;
# fogctl profile alert ID renders it as folded lines, HTML and pprof. The test never waits for
# the alert to resolve, and whatever else loads the shared host only adds to the waits.
# Then a capture that cannot be kept (the ring's folder cannot be created), and an alert that
# gets none (one capture at a time, then the rate limit), leave their alerts intact in
# Alertmanager and say why in /api/v1/alerts and fog_alert_profiles_total.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
AM_BIN=$(command -v prometheus-alertmanager || true)
[ -n "$AM_BIN" ] || t_fail "prometheus-alertmanager is not installed (tools/install-deps.sh)"

port=$(t_free_port)
AM="http://127.0.0.1:$port"
AM_PID=
burners=()
T_CLEANUP_EXTRA='[ -n "$AM_PID" ] && kill "$AM_PID" 2>/dev/null; for b in "${burners[@]}"; do kill "$b" 2>/dev/null; done'
t_alertmanager_start "$port"

# the burners run before fogd starts: the capture, whenever the alert fires, sees them
cpu=$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')
for i in 1 2 3 4; do
	taskset -c "$cpu" "$HELPERS/prof_hot" 300 >/dev/null &
	burners+=($!)
done
t_log "4 burners on CPU $cpu: ${burners[*]}"

RING="$T_DIR/ring"
# a hook (run as [fogd] run_user) keeps each alert's JSON and FOG_ALERT_PROFILE_URL
t_task_dir
cat >"$T_TASK_DIR/hook.sh" <<EOF
#!/bin/sh
{ cat; echo; echo "url=\${FOG_ALERT_PROFILE_URL:-none}"; } >>"$T_TASK_DIR/hook.out"
EOF
chmod 0755 "$T_TASK_DIR/hook.sh"
# only the run-queue threshold: no other alert takes the one capture the rate limit allows
start() {
	fogd_start -o monitor.cpu_warning=0 -o monitor.memory_warning=0 -o monitor.psi_warning=0 \
		-o monitor.io_warning_s=0 -o monitor.runq_warning_s=0.004 -o monitor.runq_critical_s=10 \
		-o monitor.for_s=1 -o monitor.alertmanager="$AM" -o monitor.alertmanager_resend_s=2 \
		-o monitor.profile_on=error -o monitor.profile_seconds=4 -o fogd.tick_ms=500 "$@"
}
start -o profile.directory="$RING" -o monitor.hook="$T_TASK_DIR/hook.sh"

# Alertmanager's run-queue alerts of this host that link a profile.
am_linked() {
	curl -sf --max-time 5 "$AM/api/v2/alerts?active=true" |
		jq -c --arg h "$(hostname)" '[.[] | select(.labels.alertname == "FogRunqLatencyHigh" and
			.labels.instance == $h and .annotations.profile_url != null)]'
}
linked() {
	[ "$(am_linked | jq length)" -ge 1 ] && return 0
	echo "alertmanager: $(am_linked); fogd: $(api /api/v1/alerts | jq -c '.alerts[] | select(.resource == "runq_latency")')"
	return 1
}
T_WAIT_EVERY=0.5 t_wait_for 60 "a run-queue alert with profile_url in Alertmanager" linked
a=$(am_linked | jq -c '.[0]')
t_log "alertmanager has: $(jq -c '{labels, profile_url: .annotations.profile_url}' <<<"$a")"
url=$(jq -r '.annotations.profile_url' <<<"$a")
[[ "$url" =~ ^/api/v1/profiles/alert/[1-9][0-9]*$ ]] || t_fail "profile_url is '$url'"
id=${url##*/}
jq -e '.labels.severity == "error" or .labels.severity == "critical"' <<<"$a" >/dev/null ||
	t_fail "a profile linked to a $(jq -r .labels.severity <<<"$a") alert (profile_on = error)"

# fogd's own view of the alert: the same id and link, and the capture's state
fa=$(api /api/v1/alerts | jq -c '.alerts[] | select(.resource == "runq_latency")')
jq -e --arg u "$url" --argjson id "$id" '.id == $id and .profile_url == $u and
	(.profile.state == "capturing" or .profile.state == "done") and .profile.offcpu' \
	<<<"$fa" >/dev/null || t_fail "/api/v1/alerts: $fa"
"$FOGCTL" alerts >"$T_DIR/alerts.txt" || t_fail "fogctl alerts failed"
grep -E "^runq_latency .* $id +$url (capturing|done)" "$T_DIR/alerts.txt" >/dev/null ||
	t_fail "fogctl alerts does not show the link: $(cat "$T_DIR/alerts.txt")"

# the hook got the link too: in its JSON and its environment
hooked() {
	jq -se --arg u "$url" 'map(select(type == "object" and .profile_url == $u)) | length >= 1' \
		< <(grep -v '^url=' "$T_TASK_DIR/hook.out") >/dev/null || return 1
	grep -qx "url=$url" "$T_TASK_DIR/hook.out"
}
t_wait_for 20 "the hook given profile_url" hooked

# fetched at once, fogctl waits for the capture; it ends after profile_seconds, whatever the
# alert does meanwhile
"$FOGCTL" profile alert "$id" -o "$T_DIR/report.folded" 2>"$T_DIR/fetch.err" ||
	t_fail "fogctl profile alert -o .folded: $(cat "$T_DIR/fetch.err")"
t_log "$(tr '\n' ' ' <"$T_DIR/fetch.err")"
t_wait_json /api/v1/profiles/alerts ".captures[] | select(.alert == $id) | .state == \"done\"" 60 ||
	t_fail "capture not done: $(api /api/v1/profiles/alerts)"
cap=$(api /api/v1/profiles/alerts | jq -c ".captures[] | select(.alert == $id)")
t_log "capture: $cap"
[ -f "$RING/$(jq -r .cpu <<<"$cap")" ] || t_fail "no $(jq -r .cpu <<<"$cap") in $RING: $(ls "$RING")"
[[ "$(jq -r .cpu <<<"$cap")" =~ ^alert-$id-cpu-[0-9]{8}T[0-9]{6}Z\.pb\.gz$ ]] || t_fail "file name: $cap"
[[ "$(jq -r .offcpu_file <<<"$cap")" =~ ^alert-$id-offcpu- ]] || t_fail "no off-CPU profile: $cap"
# the alert still carries its link (it may have resolved meanwhile: then nothing to check)
fa=$(api /api/v1/alerts | jq -c '.alerts[] | select(.resource == "runq_latency")')
jq -e --argjson id "$id" '.level == "info" or .id != $id or .profile.state == "done"' <<<"$fa" >/dev/null ||
	t_fail "/api/v1/alerts after the capture: $fa"

# the burners' hottest user function (their own samples, not the host's): leaf-most frame
# without a kernel mark, by samples
hottest=$(awk '{ n = $NF; $NF = ""; sub(/ $/, ""); k = split($0, f, ";");
	if (f[1] != "prof_hot") next;
	for (i = k; i > 1 && f[i] ~ /_\[k\]$|^\[kernel|^\[unknown/; i--) ;
	if (i > 1) s[f[i]] += n }
	END { for (x in s) if (s[x] > best) { best = s[x]; name = x } print name, best + 0 }' "$T_DIR/report.folded")
t_log "the burners' hottest user function: $hottest"
[ "${hottest%% *}" = prof_hot_leaf ] ||
	t_fail "hottest is '$hottest', not prof_hot_leaf: $(grep '^prof_hot' "$T_DIR/report.folded" | sort -t' ' -k2 -nr | head -5)"
"$FOGCTL" profile alert "$id" -o "$T_DIR/report.html" || t_fail "fogctl profile alert -o .html"
grep -q "prof_hot_leaf" "$T_DIR/report.html" && grep -qi "<html" "$T_DIR/report.html" ||
	t_fail "report.html does not show prof_hot_leaf"
"$FOGCTL" profile alert "$id" -o "$T_DIR/report.pb.gz" || t_fail "fogctl profile alert -o .pb.gz"
cmp -s "$T_DIR/report.pb.gz" "$RING/$(jq -r .cpu <<<"$cap")" || t_fail "the .pb.gz is not the ring's file"
"$FOGCTL" profile alert "$id" --mode offcpu -o "$T_DIR/off.folded" || t_fail "fogctl profile alert --mode offcpu"
# an unknown alert is a clear 404
[ "$(t_code GET /api/v1/profiles/alert/999999999)" = 404 ] || t_fail "unknown alert: $(cat "$T_BODY")"
[ "$(t_code GET /api/v1/profiles/alert/0x1)" = 400 ] || t_fail "bad id: $(cat "$T_BODY")"
fogd_stop

# ---- a capture that cannot be kept, and one not taken: both alerts go on, their profiles say
# why. A CPU threshold of 0.8 of the CPU the burners fill (of all of them) adds a second alert:
# whichever fires first gets the capture (which fails), the other none (one at a time, then the
# rate limit): no profile_url, and the reason in /api/v1/alerts ----
start -o profile.directory=/proc/fogd-test-no-such-dir/ring \
	-o monitor.cpu_warning="$(awk -v n="$(nproc)" 'BEGIN { printf "%.4f", 0.8 / n }')" \
	-o monitor.cpu_critical=1
both() {
	s=$(api /api/v1/alerts | jq -c '[.alerts[] | select(.resource == "runq_latency" or
		.resource == "cpu") | {resource, id, profile_url, profile}]')
	echo "$s"
	jq -e 'length == 2 and ([.[].profile.state] | sort) == ["failed", "skipped"]' <<<"$s" >/dev/null
}
T_WAIT_EVERY=0.5 t_wait_for 60 "one failed and one skipped capture in /api/v1/alerts" both
t_log "alerts: $s"
f=$(jq -c '.[] | select(.profile.state == "failed")' <<<"$s")
k=$(jq -c '.[] | select(.profile.state == "skipped")' <<<"$s")
fid=$(jq -r .id <<<"$f")
[ "$fid" != "$id" ] || t_fail "alert ids repeat across fogd restarts ($id)"
jq -e --arg u "/api/v1/profiles/alert/$fid" '.profile_url == $u and (.profile.error | test("cannot create"))' \
	<<<"$f" >/dev/null || t_fail "the failed capture: $f"
jq -e '.profile_url == null and (.profile.reason | test("rate limit|being captured"))' <<<"$k" >/dev/null ||
	t_fail "the skipped capture: $k"
[ "$(t_code GET "/api/v1/profiles/alert/$fid")" = 404 ] && grep -q "cannot create" "$T_BODY" ||
	t_fail "the failed capture's profile: $(cat "$T_BODY")"
[ "$(t_code GET "/api/v1/profiles/alert/$(jq -r .id <<<"$k")")" = 404 ] &&
	grep -Eq "rate limit|being captured" "$T_BODY" || t_fail "the skipped alert's profile: $(cat "$T_BODY")"
# Alertmanager has both: the failed one with its link, the other without
am_both() {
	curl -sf --max-time 5 "$AM/api/v2/alerts?active=true" | jq -e --arg u "/api/v1/profiles/alert/$fid" \
		--arg h "$(hostname)" --arg kr "$(jq -r .resource <<<"$k")" '
		map(select(.labels.instance == $h)) |
		(map(select(.annotations.profile_url == $u)) | length >= 1) and
		(map(select(.labels.resource == $kr and .annotations.profile_url == null and
			(.labels.severity == "error" or .labels.severity == "critical"))) | length >= 1)'
}
t_wait_for 20 "both alerts in Alertmanager, the linked one and the other" am_both
grep -q "alert $fid: profile not captured" "$FOGD_LOG" || t_fail "fogd did not log the failed capture"
curl -s --unix-socket "$FOG_SOCK" http://localhost/metrics | grep '^fog_alert_profiles_total' >"$T_DIR/m"
grep -qx 'fog_alert_profiles_total{result="started"} 1' "$T_DIR/m" &&
	grep -qx 'fog_alert_profiles_total{result="failed"} 1' "$T_DIR/m" &&
	grep -Eqx 'fog_alert_profiles_total\{result="skipped"\} [1-9][0-9]*' "$T_DIR/m" ||
	t_fail "fog_alert_profiles_total: $(cat "$T_DIR/m")"
fogd_stop
exit 0
