#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The uplink over https with basic auth from a password file: a receiver whose certificate
# is signed by a CA of the test's own gets the POSTs when [uplink] ca_file names that CA,
# with "Authorization: Basic" of the user and the file's password; without ca_file (the
# system's CAs) the certificate is refused, the POSTs are retried and counted, never sent
# in the clear. The password is in no log, status or exposition.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/lib_uplink.sh"
command -v openssl >/dev/null || t_skip "openssl is not installed"

pki="$T_DIR/pki"
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=fogd test CA" \
	-keyout "$pki/ca.key" -out "$pki/ca.pem" >/dev/null 2>&1 || t_fail "cannot make a CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$pki/srv.key" \
	-out "$pki/srv.csr" >/dev/null 2>&1 || t_fail "cannot make a key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
openssl x509 -req -in "$pki/srv.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
	-days 1 -extfile "$pki/ext" -out "$pki/srv.pem" >/dev/null 2>&1 || t_fail "cannot sign the certificate"
password="uplink-pw-$$-$RANDOM"
printf '%s\n' "$password" >"$T_DIR/password"
chmod 0600 "$T_DIR/password"
https_url="https://127.0.0.1:$PROM_PORT/api/v1/write"
auth=(-o uplink.url="$https_url" -o uplink.username=fogd-edge -o uplink.password_file="$T_DIR/password")

up_stub_start 200 --tls "$pki/srv.pem" "$pki/srv.key"
# without the CA: refused, retried
fogd_start "${UP_OPTS[@]}" "${auth[@]}"
up_wait_status '.requests.retried >= 2' || t_fail "a certificate of an unknown CA was not refused: $(api /api/v1/uplink)"
[ "$(api /api/v1/uplink | jq .requests.ok)" = 0 ] || t_fail "POSTs went through to a certificate no CA of the system signed"
[ ! -s "$T_DIR/stub.headers" ] || t_fail "the receiver got a request past a refused certificate"
api /api/v1/uplink >"$T_DIR/status1.json"
fogd_stop

# with the CA: the backlog and the live data arrive
fogd_start "${UP_OPTS[@]}" "${auth[@]}" -o uplink.ca_file="$pki/ca.pem"
up_wait_status '.requests.ok >= 3 and .connected == true' || t_fail "no POST over https with ca_file: $(api /api/v1/uplink)"
want="Authorization: Basic $(printf 'fogd-edge:%s' "$password" | base64 -w0)"
grep -qxF "$want" "$T_DIR/stub.headers" || t_fail "no basic auth of the user and the file's password"
api /metrics >"$T_DIR/metrics.txt"
api /api/v1/uplink >"$T_DIR/status2.json"
"$FOGD" -n "${UP_OPTS[@]}" "${auth[@]}" >"$T_DIR/check.txt" 2>&1
fogd_stop
up_stub_stop
for f in "$FOGD_LOG" "$T_DIR/metrics.txt" "$T_DIR/status1.json" "$T_DIR/status2.json" "$T_DIR/check.txt"; do
	grep -qF "$password" "$f" && t_fail "the password appears in $(basename "$f")"
done
exit 0
