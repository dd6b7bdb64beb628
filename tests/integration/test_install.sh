#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make install` into a DESTDIR: every file lands where it should with the right mode;
# fog.pc points at the installed tree and names none of the daemon's libraries (no
# libbpf, libmicrohttpd, libcurl, libcap-ng or inih, even with --static), and a program
# built with nothing but `pkg-config --cflags --libs fog` against the installed headers
# and libfog.a compiles, links and runs (its output is checked against what it
# computed); a pool and arena program links with libfog and libc alone; the example
# program builds with fog and fog-profiler; both man pages render without warnings and document every
# setting `fogd -n` prints; the installed unit runs the installed fogd;
# `make uninstall` leaves no file but the configuration behind.
. "$(dirname "$0")/lib.sh"
command -v pkg-config >/dev/null || t_skip "pkg-config is not installed"
command -v groff >/dev/null && command -v man >/dev/null || t_skip "groff or man-db missing"
cd "$(dirname "$0")/../.." || t_fail "no source tree"

MK=(make --no-print-directory OUTPUT="$OUTPUT")
# the Makefile includes mk/install.mk; until then, read it alongside
grep -q '^include mk/install.mk' Makefile || MK+=(-f Makefile -f mk/install.mk)
DEST="$T_DIR/dest"
PREFIX=/opt/fogtest

"${MK[@]}" install DESTDIR="$DEST" PREFIX="$PREFIX" >"$T_DIR/install.log" 2>&1 ||
	t_fail "make install failed: $(tail -n 20 "$T_DIR/install.log")"

# ---- every file, with its mode ----
want=(
	"sbin/fogd 755" "bin/fogctl 755" "lib/libfog.a 644" "lib/pkgconfig/fog.pc 644"
	"lib/libfogprof.a 644" "lib/pkgconfig/fog-profiler.pc 644"
	"share/man/man8/fogd.8 644" "share/man/man8/fogctl.8 644"
	"lib/systemd/system/fogd.service 644" "share/doc/fogd/README.md 644"
)
for h in include/fog/*.h; do
	want+=("include/fog/$(basename "$h") 644")
	# abi headers a public header includes must come along
	for abi in $(sed -n 's|^#include "fog/\(abi/[A-Za-z0-9_]*\.h\)".*|\1|p' "$h"); do
		want+=("include/fog/$abi 644")
	done
done
[ -e "$OUTPUT/libfogalloc.so" ] && want+=("lib/libfogalloc.so 755")
for w in "${want[@]}"; do
	f="$DEST$PREFIX/${w% *}"
	[ -f "$f" ] || t_fail "not installed: $f"
	mode=$(stat -c %a "$f")
	[ "$mode" = "${w#* }" ] || t_fail "$f has mode $mode, want ${w#* }"
done
cmp -s "$OUTPUT/fogd" "$DEST$PREFIX/sbin/fogd" || t_fail "installed fogd differs from $OUTPUT/fogd"
cmp -s "$OUTPUT/libfog.a" "$DEST$PREFIX/lib/libfog.a" || t_fail "installed libfog.a differs"
[ -f "$DEST/etc/fogd/fogd.ini" ] || t_fail "no default configuration $DEST/etc/fogd/fogd.ini"
"$DEST$PREFIX/sbin/fogd" -n -c "$DEST/etc/fogd/fogd.ini" >/dev/null 2>&1 ||
	t_fail "the installed default configuration is refused by fogd -n"
# BPF-only abi headers stay private
[ ! -e "$DEST$PREFIX/include/fog/abi/sched.h" ] || t_fail "abi/sched.h (BPF only) installed"
t_log "${#want[@]} files installed under $DEST$PREFIX"

# ---- the unit runs what was installed ----
unit="$DEST$PREFIX/lib/systemd/system/fogd.service"
grep -q "^ExecStart=$PREFIX/sbin/fogd -c /etc/fogd/fogd.ini$" "$unit" ||
	t_fail "unit's ExecStart is not $PREFIX/sbin/fogd: $(grep ExecStart "$unit")"

# ---- pkg-config and a program linked against the installed library ----
export PKG_CONFIG_PATH="$DEST$PREFIX/lib/pkgconfig"
# the staged tree is not at its prefix yet: the sysroot maps its -I and -L into DESTDIR
pc() { PKG_CONFIG_SYSROOT_DIR="$DEST" pkg-config "$@"; }
[ "$(pkg-config --variable=prefix fog)" = "$PREFIX" ] || t_fail "fog.pc prefix is not $PREFIX"
[ "$(pkg-config --modversion fog)" = "$("$OUTPUT/fogd" --version | cut -d' ' -f2)" ] ||
	t_fail "fog.pc version $(pkg-config --modversion fog) is not fogd's"
pc --exists fog || t_fail "pkg-config cannot resolve fog: $(pc --print-errors --exists fog 2>&1)"
cflags=$(pc --cflags fog) libs=$(pc --libs fog)
# a SAN=1 libfog.a carries sanitizer calls: programs linking it need the runtimes
[ "$OUTPUT" = build-san ] && libs="$libs -fsanitize=address,undefined"
t_log "pkg-config --cflags --libs fog: $cflags $libs"
case " $cflags " in *" -I$DEST$PREFIX/include "*) ;; *) t_fail "cflags lack the include dir" ;; esac
# the library is base and cores: the daemon's libraries stay out of it
static=$(pc --static --libs fog)
for l in -lbpf -lmicrohttpd -lcurl -lcap-ng -linih; do
	case " $static " in *" $l "*) t_fail "pkg-config --static --libs fog names $l: $static" ;; esac
done
case " $(pc --libs fog-profiler) " in *" -lfogprof "*" -lbpf "*) ;;
*) t_fail "fog-profiler.pc does not give -lfogprof and libbpf: $(pc --libs fog-profiler)" ;; esac

cat >"$T_DIR/tiny.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fog/arena.h>
#include <fog/pool.h>
#include <fog/sched.h>

int main(void)
{
	struct fog_arena *a = fog_arena__new(&(struct fog_arena_opts){ .reserve = 64 << 20 });
	struct fog_pool_opts po = { .type = FOG_POOL_BUFFER, .max_size = 2, .buffer_size = 64 };
	struct fog_pool *p = fog_pool__new("tiny", &po);
	struct fog_pool_stats st;
	unsigned int sum = 0;
	char *s;

	if (!a || !p)
		return 1;
	for (int i = 0; i < 10; i++) {
		void *r = fog_pool__get(p, 0);

		if (!r || fog_pool__put(p, r))
			return 1;
	}
	s = fog_arena__alloc(a, 100);
	if (!s)
		return 1;
	strcpy(s, "libfog");
	for (const char *c = s; *c; c++)
		sum += (unsigned char)*c;
	fog_pool__stats(p, &st);
	printf("%s %u %llu %llu %s\n", s, sum, (unsigned long long)st.acquisitions,
	       (unsigned long long)st.created, fog_sched_strategy_name(FOG_STRAT_ML_ADAPTIVE));
	fog_arena__dealloc(a, s);
	fog_pool__free(p);
	fog_arena__free(a);
	return 0;
}
EOF
# shellcheck disable=SC2086  # flags are words
cc -Wall -Werror $cflags -o "$T_DIR/tiny" "$T_DIR/tiny.c" $libs 2>"$T_DIR/tiny.err" ||
	t_fail "tiny program does not build with pkg-config's flags: $(cat "$T_DIR/tiny.err")"
sum=$(printf 'libfog' | od -An -tu1 | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }')
got=$("$T_DIR/tiny") || t_fail "tiny program failed"
# ten gets from a pool of at most 2 buffers, never waiting: one created, reused after
[ "$got" = "libfog $sum 10 1 ml_adaptive" ] || t_fail "tiny program printed '$got'"

# pool and arena alone: libfog and libc, nothing else on the link line
cat >"$T_DIR/pool_only.c" <<'EOF'
#include <fog/arena.h>
#include <fog/pool.h>

int main(void)
{
	struct fog_arena *a = fog_arena__new(&(struct fog_arena_opts){ .reserve = 16 << 20 });
	struct fog_pool *p = fog_pool__new("p", &(struct fog_pool_opts){
		.type = FOG_POOL_BUFFER, .max_size = 1, .buffer_size = 64 });
	void *r = p ? fog_pool__get(p, 0) : NULL;
	int bad = !a || !r || fog_pool__put(p, r) || !fog_arena__alloc(a, 10);

	fog_pool__free(p);
	fog_arena__free(a);
	return bad;
}
EOF
san=
[ "$OUTPUT" = build-san ] && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
cc -Wall -Werror $cflags -o "$T_DIR/pool_only" "$T_DIR/pool_only.c" \
	-L"$DEST$PREFIX/lib" -lfog $san 2>"$T_DIR/pool_only.err" ||
	t_fail "a pool and arena program does not link with -lfog alone: $(cat "$T_DIR/pool_only.err")"
"$T_DIR/pool_only" || t_fail "the pool and arena program failed"

# the example uses every public header and every part of the library
if [ -f tools/examples/fog_example.c ]; then
	exlibs=$(pc --libs fog-profiler)
	[ "$OUTPUT" = build-san ] && exlibs="$exlibs -fsanitize=address,undefined"
	# shellcheck disable=SC2086
	cc -O2 -Wall -Werror -D_GNU_SOURCE $cflags -o "$T_DIR/fog_example" \
		tools/examples/fog_example.c $exlibs 2>"$T_DIR/ex.err" ||
		t_fail "the example does not build against the installed tree: $(cat "$T_DIR/ex.err")"
	"$T_DIR/fog_example" -h | grep -q '^usage: fog_example' || t_fail "built example does not run"
fi

# ---- man pages: render without warnings, document every setting ----
for page in fogd fogctl; do
	f="$DEST$PREFIX/share/man/man8/$page.8"
	warn=$(groff -man -ww -z "$f" 2>&1)
	[ -z "$warn" ] || t_fail "$page.8: groff warns: $warn"
	LC_ALL=C MANWIDTH=100 man -l "$f" >"$T_DIR/$page.txt" 2>"$T_DIR/$page.err" ||
		t_fail "man -l $page.8 failed: $(cat "$T_DIR/$page.err")"
	[ ! -s "$T_DIR/$page.err" ] || t_fail "man -l $page.8 warns: $(cat "$T_DIR/$page.err")"
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES "SEE ALSO"; do
		grep -q "^$s\$" "$T_DIR/$page.txt" || t_fail "$page.8 has no $s section"
	done
done
grep -q '^SIGNALS$' "$T_DIR/fogd.txt" || t_fail "fogd.8 has no SIGNALS section"
grep -q '^ENVIRONMENT$' "$T_DIR/fogctl.txt" || t_fail "fogctl.8 has no ENVIRONMENT section"
# every [section] and key of `fogd -n`, with its default
"$OUTPUT/fogd" -n | awk '/^\[/ { sec = $1 } /^[a-z_]+ = / { print sec, $1, $3 }' >"$T_DIR/keys"
[ -s "$T_DIR/keys" ] || t_fail "fogd -n printed no settings"
tr -s ' ' <"$T_DIR/fogd.txt" >"$T_DIR/fogd.flat"
while read -r sec key def; do
	grep -qF -- "$sec" "$T_DIR/fogd.flat" || t_fail "fogd.8 does not document section $sec"
	# numbers as fogd -n prints them (0.84999999999999998) are matched by value
	if [[ "$def" =~ ^[0-9.]+$ ]]; then
		def=$(awk -v d="$def" 'BEGIN { printf "%.15g", d }')
	fi
	grep -qE -- "(^| )$key = $def([ ,]|$)" "$T_DIR/fogd.flat" ||
		t_fail "fogd.8 does not document $sec $key = $def"
done <"$T_DIR/keys"
for cmd in status top events metrics alerts trends recommend profile sched get; do
	"$OUTPUT/fogctl" --help | grep -q "^  $cmd " || continue
	grep -qE "^ +$cmd( |$)" "$T_DIR/fogctl.txt" || t_fail "fogctl.8 does not document $cmd"
done
t_log "$(wc -l <"$T_DIR/keys") settings documented in fogd.8"

# ---- uninstall ----
"${MK[@]}" uninstall DESTDIR="$DEST" PREFIX="$PREFIX" >"$T_DIR/uninstall.log" 2>&1 ||
	t_fail "make uninstall failed: $(cat "$T_DIR/uninstall.log")"
left=$(find "$DEST" -type f ! -path "$DEST/etc/fogd/fogd.ini")
[ -z "$left" ] || t_fail "left after uninstall: $left"
exit 0
