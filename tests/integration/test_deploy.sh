#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The files in deploy/ are valid: Prometheus config and rules (checked and unit-tested
# by promtool) and the systemd unit (systemd-analyze verify, where systemd is present).
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || t_fail "promtool is not installed (tools/install-deps.sh installs it)"
cd deploy/prometheus || t_fail "no deploy/prometheus"
promtool check config prometheus.yml >"$T_DIR/out" 2>&1 || t_fail "$(cat "$T_DIR/out")"
promtool check rules fogd-rules.yml >"$T_DIR/out" 2>&1 || t_fail "$(cat "$T_DIR/out")"
promtool test rules fogd-rules.test.yml >"$T_DIR/out" 2>&1 || t_fail "$(cat "$T_DIR/out")"
cd ../..
if command -v systemd-analyze >/dev/null; then
	# verify needs the binary at the unit's path: point it at the build
	sed "s|/usr/local/sbin/fogd|$(realpath "$FOGD")|" deploy/systemd/fogd.service >"$T_DIR/fogd.service"
	systemd-analyze verify "$T_DIR/fogd.service" >"$T_DIR/out" 2>&1 || t_fail "$(cat "$T_DIR/out")"
else
	t_log "systemd-analyze not installed: unit not verified"
fi
