#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# net collector, checked against traffic whose size the test knows:
#  1. K bytes over loopback TCP: lo's rx_bytes and tx_bytes each grow by >= K,
#     and by no more than the kernel's own lo counters allow (each frame once);
#  2. the same from a cgroup v2 of its own: that cgroup's rx and tx grow by >= K
#     (and not twice that), its path is named, and it leaves the list once removed;
#  3. UDP over a veth pair into a network namespace: the host end counts exactly
#     the datagrams and bytes sent each way; loopback traffic inside the other
#     namespace is not counted on fogd's lo; the interface leaves once deleted;
#  4. SIGTERM leaves none of the collector's programs or pins behind;
#  5. with net.cgroup_skb=off, per-cgroup is unavailable with a reason, the
#     cgroup_skb programs are not loaded, and interfaces are still counted;
#     turning it on by a reload (SIGHUP) brings per-cgroup back.
. "$(dirname "$0")/lib.sh"

K=$((50 * 1000 * 1000))
N=500		# datagrams per direction: well below the backlog of a veth peer
SIZE=1000	# payload bytes; on the wire +8 UDP +20 IPv4 +14 Ethernet
WIRE=$((SIZE + 42))
ETH_HLEN=14
LO_MAX_FRAME=$((65536 + ETH_HLEN))

t_require_root_btf
[ -x "$HELPERS/net_send" ] || t_fail "helper $HELPERS/net_send is not built"
command -v ip >/dev/null || t_skip "needs ip (iproute2)"
command -v bpftool >/dev/null || t_skip "needs bpftool"

NS=fognet$$
VA=fgn$$a
VB=fgn$$b
OCT=$(($$ % 250 + 1))
ADDR_A=198.18.$OCT.1	# RFC 2544 benchmarking range
ADDR_B=198.18.$OCT.2
PORT=$((20000 + $$ % 20000))
CG=
BG_PIDS=
T_CLEANUP_EXTRA='kill $BG_PIDS 2>/dev/null; wait $BG_PIDS 2>/dev/null;
	ip link del "$VA" 2>/dev/null; ip netns del "$NS" 2>/dev/null;
	[ -n "$CG" ] && [ -d "$CG" ] && rmdir "$CG"'

check_ge() { [ "$1" -ge "$2" ] || t_fail "$3: $1 < $2"; }
check_le() { [ "$1" -le "$2" ] || t_fail "$3: $1 > $2"; }
check_eq() { [ "$1" -eq "$2" ] || t_fail "$3: $1, expected $2"; }

fogd_net() {
	fogd_start -o fogd.tick_ms=200 -o collectors.cpu=off -o collectors.schedlat=off \
		-o collectors.mem=off -o collectors.io=off "$@"
	t_require_collector net
}

# Returns once a whole tick has run after the call: the figures served next
# include everything that happened before it.
wait_tick() {
	local t
	t=$(api /api/v1/status | jq '.ticks') || t_fail "no /api/v1/status"
	t_wait_json /api/v1/status '.ticks > ($t | tonumber)' 10 --arg t "$t" ||
		t_fail "fogd did not tick within 10 s"
}

# "rx_bytes rx_packets tx_bytes tx_packets" of an interface in fogd's figures, 0s if absent.
fogd_if() {
	api /api/v1/net | jq -r --arg n "$1" '[.interfaces[] | select(.name == $n)] |
		if length == 0 then "0 0 0 0" else
		.[0] | "\(.rx_bytes) \(.rx_packets) \(.tx_bytes) \(.tx_packets)" end'
}

# "rx_bytes rx_packets rx_drop tx_bytes tx_packets" of an interface from /proc/net/dev.
proc_if() {
	# "name:bytes" has no space once bytes take more than 8 digits
	awk -v n="$1" '{ sub(/:/, " ") } $1 == n { print $2, $3, $5, $10, $11 }' /proc/net/dev
}

net_progs() {
	api /api/v1/status | jq -c '[.collectors[] | select(.name == "net") | .programs[].name]'
}

# ---- 1. loopback TCP ----
fogd_net
api /api/v1/net | jq -e '(.interfaces | type == "array") and
	(.cgroups.available | type == "boolean") and (.cgroups | has("reason") and has("items"))' \
	>/dev/null || t_fail "unexpected /api/v1/net: $(api /api/v1/net | head -c 300)"

read -r p0_rxb p0_rxp p0_rxd p0_txb p0_txp <<<"$(proc_if lo)"
[ -n "$p0_txp" ] || t_fail "no lo in /proc/net/dev"
wait_tick
read -r f0_rxb f0_rxp f0_txb f0_txp <<<"$(fogd_if lo)"
out=$("$HELPERS/net_send" tcp "$K") || t_fail "net_send tcp failed: $out"
sent=$(echo "$out" | jq '.sent')
check_eq "$sent" "$K" "bytes the helper sent"
wait_tick
read -r f1_rxb f1_rxp f1_txb f1_txp <<<"$(fogd_if lo)"
read -r p1_rxb p1_rxp p1_rxd p1_txb p1_txp <<<"$(proc_if lo)"

d_rx=$((f1_rxb - f0_rxb))
d_tx=$((f1_txb - f0_txb))
lo_pk=$((p1_rxp - p0_rxp))
t_log "lo: sent $sent, fogd rx +$d_rx tx +$d_tx" \
	"($((f1_rxp - f0_rxp))/$((f1_txp - f0_txp)) packets)," \
	"kernel +$((p1_rxb - p0_rxb)) bytes in +$lo_pk packets"
check_ge "$d_rx" "$sent" "lo rx_bytes growth vs bytes sent"
check_ge "$d_tx" "$sent" "lo tx_bytes growth vs bytes sent"
# fogd's window lies inside the kernel's; the kernel counts lo frames without the
# Ethernet header, and fogd's tx also counts frames the backlog then dropped
max_rx=$((p1_rxb - p0_rxb + ETH_HLEN * lo_pk))
max_tx=$((max_rx + LO_MAX_FRAME * (p1_rxd - p0_rxd)))
check_le "$d_rx" "$max_rx" "lo rx_bytes growth vs the kernel's (counted twice?)"
check_le "$d_tx" "$max_tx" "lo tx_bytes growth vs the kernel's (counted twice?)"
check_le "$((f1_rxp - f0_rxp))" "$lo_pk" "lo rx_packets growth vs the kernel's"
check_ge "$((f1_rxp - f0_rxp))" 1 "lo rx_packets growth"
api /api/v1/net | jq -e '.interfaces[] | select(.name == "lo") |
	(.rx_bytes_per_s >= 0 and .tx_bytes_per_s >= 0)' >/dev/null ||
	t_fail "lo rates: $(api /api/v1/net | jq -c '.interfaces[] | select(.name == "lo")')"

# ---- 2. per cgroup ----
cg_available=false
if api /api/v1/net | jq -e '.cgroups.available' >/dev/null; then
	cg_available=true
	mnt=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
		if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
	self=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
	[ -n "$mnt" ] || t_fail "per-cgroup available but the test finds no cgroup2 mount"
	cg_path="${self%/}/fogtest-net-$$"
	CG="$mnt$cg_path"
	mkdir "$CG" || t_fail "cannot create $CG"
	cg_id=$(stat -c %i "$CG")
	out=$(echo 0 >"$CG/cgroup.procs" && exec "$HELPERS/net_send" tcp "$K") ||
		t_fail "net_send tcp in $CG failed: $out"
	sent=$(echo "$out" | jq '.sent')
	wait_tick
	item=$(api /api/v1/net |
		jq -c --argjson id "$cg_id" '.cgroups.items[] | select(.cgroup_id == $id)')
	[ -n "$item" ] || t_fail "cgroup $cg_path (id $cg_id) is not listed:" \
		"$(api /api/v1/net | jq -c '.cgroups' | head -c 400)"
	t_log "cgroup $cg_path: $item"
	[ "$(echo "$item" | jq -r '.path')" = "$cg_path" ] ||
		t_fail "cgroup $cg_id is named $(echo "$item" | jq '.path'), not $cg_path"
	# the helper's traffic is all the cgroup had: headers and ACKs add far less than 10%
	for d in rx tx; do
		v=$(echo "$item" | jq ".${d}_bytes")
		check_ge "$v" "$sent" "cgroup ${d}_bytes vs bytes sent"
		check_le "$v" "$((sent + sent / 10))" "cgroup ${d}_bytes vs bytes sent (counted twice?)"
	done
	rmdir "$CG" || t_fail "cannot remove $CG"
	t_wait_json /api/v1/net \
		'[.cgroups.items[] | select(.cgroup_id == ($id | tonumber))] | length == 0' \
		15 --arg id "$cg_id" || t_fail "removed cgroup $cg_id is still listed after 15 s"
	CG=
else
	t_log "per-cgroup unavailable: $(api /api/v1/net | jq -r '.cgroups.reason')"
fi

# ---- 3. veth into another network namespace ----
ip netns add "$NS" || t_fail "cannot create netns $NS"
ip link add "$VA" type veth peer name "$VB" || t_skip "cannot create a veth pair"
ip link set "$VB" netns "$NS" || t_fail "cannot move $VB into $NS"
# no IPv6 and static neighbours: nothing but the test's datagrams crosses the link
[ -e "/proc/sys/net/ipv6/conf/$VA" ] && sysctl -qw "net.ipv6.conf.$VA.disable_ipv6=1"
ip netns exec "$NS" sh -c "[ ! -e /proc/sys/net/ipv6/conf/$VB ] ||
	sysctl -qw net.ipv6.conf.$VB.disable_ipv6=1"
{ ip addr add "$ADDR_A/30" dev "$VA" && ip link set "$VA" up; } || t_fail "cannot set up $VA"
ip netns exec "$NS" sh -c "ip addr add $ADDR_B/30 dev $VB && ip link set $VB up &&
	ip link set lo up" || t_fail "cannot set up $VB"
mac_a=$(cat "/sys/class/net/$VA/address")
mac_b=$(ip netns exec "$NS" cat "/sys/class/net/$VB/address")
ip neigh replace "$ADDR_B" lladdr "$mac_b" dev "$VA" nud permanent
ip netns exec "$NS" ip neigh replace "$ADDR_A" lladdr "$mac_a" dev "$VB" nud permanent
va_index=$(cat "/sys/class/net/$VA/ifindex")
sleep 0.5

# Starts a UDP sink (further arguments: a command prefix) and waits until it is bound.
start_sink() {
	local addr=$1 file=$2
	shift 2
	"$@" "$HELPERS/net_send" udp-sink "$addr" "$PORT" "$N" 20 >"$file" &
	SINK=$!
	BG_PIDS="$BG_PIDS $SINK"
	t_wait_for 30 "the udp sink on $addr bound" grep ready "$file"
}

# host -> namespace: the host end transmits exactly N frames of WIRE bytes
wait_tick
read -r a0_rxb a0_rxp a0_txb a0_txp <<<"$(fogd_if "$VA")"
start_sink "$ADDR_B" "$T_DIR/sink_b" ip netns exec "$NS"
out=$("$HELPERS/net_send" udp "$ADDR_B" "$PORT" "$N" "$SIZE") || t_fail "net_send udp failed: $out"
wait "$SINK" || t_fail "the namespace received $(tail -n 1 "$T_DIR/sink_b") of $N datagrams"
wait_tick
read -r a1_rxb a1_rxp a1_txb a1_txp <<<"$(fogd_if "$VA")"
t_log "$VA tx: +$((a1_txp - a0_txp)) packets +$((a1_txb - a0_txb)) bytes for $N x $WIRE"
check_eq "$((a1_txp - a0_txp))" "$N" "$VA tx_packets growth"
check_eq "$((a1_txb - a0_txb))" "$((N * WIRE))" "$VA tx_bytes growth"
check_eq "$((a1_rxp - a0_rxp))" 0 "$VA rx_packets growth while only sending"

# namespace -> host: the host end receives exactly N frames of WIRE bytes
start_sink "$ADDR_A" "$T_DIR/sink_a"
out=$(ip netns exec "$NS" "$HELPERS/net_send" udp "$ADDR_A" "$PORT" "$N" "$SIZE") ||
	t_fail "net_send udp in $NS failed: $out"
wait "$SINK" || t_fail "the host received $(tail -n 1 "$T_DIR/sink_a") of $N datagrams"
wait_tick
read -r a2_rxb a2_rxp a2_txb a2_txp <<<"$(fogd_if "$VA")"
t_log "$VA rx: +$((a2_rxp - a1_rxp)) packets +$((a2_rxb - a1_rxb)) bytes for $N x $WIRE"
check_eq "$((a2_rxp - a1_rxp))" "$N" "$VA rx_packets growth"
check_eq "$((a2_rxb - a1_rxb))" "$((N * WIRE))" "$VA rx_bytes growth"
check_eq "$((a2_txp - a1_txp))" 0 "$VA tx_packets growth while only receiving"
api /api/v1/net | jq -e --argjson i "$va_index" --arg n "$VA" \
	'.interfaces[] | select(.ifindex == $i) | .name == $n' >/dev/null ||
	t_fail "ifindex $va_index is not listed as $VA"

# loopback inside the namespace (its lo may share our lo's ifindex) is not ours
read -r p0_rxb p0_rxp p0_rxd p0_txb p0_txp <<<"$(proc_if lo)"
wait_tick
read -r f0_rxb f0_rxp f0_txb f0_txp <<<"$(fogd_if lo)"
out=$(ip netns exec "$NS" "$HELPERS/net_send" tcp "$K") || t_fail "net_send tcp in $NS failed: $out"
wait_tick
read -r f1_rxb f1_rxp f1_txb f1_txp <<<"$(fogd_if lo)"
read -r p1_rxb p1_rxp p1_rxd p1_txb p1_txp <<<"$(proc_if lo)"
max_rx=$((p1_rxb - p0_rxb + ETH_HLEN * (p1_rxp - p0_rxp)))
t_log "lo while $NS sent $K over its own lo: fogd +$((f1_rxb - f0_rxb)), bound $max_rx"
check_le "$((f1_rxb - f0_rxb))" "$max_rx" \
	"our lo's rx_bytes growth while $NS used its own lo (another namespace counted?)"

# deleted: the interface leaves the list
ip link del "$VA" || t_fail "cannot delete $VA"
t_wait_json /api/v1/net '[.interfaces[] | select(.ifindex == ($i | tonumber))] | length == 0' \
	15 --arg i "$va_index" || t_fail "deleted $VA (ifindex $va_index) is still listed after 15 s"
ip netns del "$NS"

# ---- 4. clean stop: none of this fogd's net programs or pins stay ----
map_ids=$(for m in net_ifaces net_cgroups; do
	bpftool -j map show pinned "$FOG_PINS/$m" | jq '.id'
done | jq -s -c '.')
[ "$(echo "$map_ids" | jq length)" -eq 2 ] || t_fail "net maps not pinned under $FOG_PINS"
progs=$(bpftool -j prog show | jq -r --argjson m "$map_ids" \
	'.[] | select(any((.map_ids // [])[]; . as $x | $m | index($x))) | .id')
want=2
[ "$cg_available" = true ] && want=4
check_eq "$(echo "$progs" | wc -w)" "$want" "programs using the net maps"
fogd_stop
# links free their programs after an RCU grace period: allow a moment
prog_gone() { ! bpftool -j prog show id "$1" 2>/dev/null; }
for p in $progs; do
	t_wait_for 20 "program $p unloaded after SIGTERM" prog_gone "$p"
done
ls "$FOG_PINS"/net_* >/dev/null 2>&1 && t_fail "pins left behind: $(ls "$FOG_PINS")"

# ---- 5. net.cgroup_skb=off, then on by a reload ----
printf '[net]\ncgroup_skb = off\n' >"$T_DIR/fogd.ini"
fogd_net -c "$T_DIR/fogd.ini"
api /api/v1/net | jq -e '.cgroups.available == false and (.cgroups.items == []) and
	(.cgroups.reason | test("cgroup_skb"))' >/dev/null ||
	t_fail "with net.cgroup_skb=off: $(api /api/v1/net | jq -c '.cgroups')"
net_progs | jq -e 'index("handle_cgroup_ingress") == null and
	index("handle_cgroup_egress") == null and index("handle_net_dev_xmit") != null' \
	>/dev/null || t_fail "cgroup_skb programs loaded although turned off: $(net_progs)"
wait_tick
read -r f0_rxb f0_rxp f0_txb f0_txp <<<"$(fogd_if lo)"
out=$("$HELPERS/net_send" tcp "$K") || t_fail "net_send tcp failed: $out"
wait_tick
read -r f1_rxb f1_rxp f1_txb f1_txp <<<"$(fogd_if lo)"
check_ge "$((f1_rxb - f0_rxb))" "$K" "lo rx_bytes growth without cgroup_skb"
check_ge "$((f1_txb - f0_txb))" "$K" "lo tx_bytes growth without cgroup_skb"
if [ "$cg_available" = true ]; then
	printf '[net]\ncgroup_skb = on\n' >"$T_DIR/fogd.ini"
	kill -HUP "$FOGD_PID"
	t_wait_json /api/v1/net '.cgroups.available == true and .cgroups.reason == null' 10 ||
		t_fail "per-cgroup not back after turning it on: $(api /api/v1/net | jq -c '.cgroups')"
	t_require_collector net
	net_progs | jq -e 'index("handle_cgroup_ingress") != null' >/dev/null ||
		t_fail "cgroup_skb programs not loaded after the reload: $(net_progs)"
fi
fogd_stop
exit 0
