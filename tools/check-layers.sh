#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make check-layers`: keeps the two layers (mk/layers.mk says which file is which).
#  1. base (user/base) includes nothing else under user/;
#  2. a core file includes only fog/, base/ and its own folder, and never a glue or
#     capture header; a capture file never includes the daemon (agent, collect, export);
#     a folder's *_int.h headers (collect/collect_int.h: struct fog_collect) are its own;
#  3. the include graph between the folders under user/ has no cycle;
#  4. no source file over 800 lines, no function over 120 (user/, tools/, bpf/; an
#     example program under tools/examples is one file, to be read and built alone, so
#     only its functions are bounded);
#  5. libfog.a links whole with only fog.pc's libraries, libfogprof.a with fog-profiler's.
# Prints every violation and exits 1 if there is one.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${LAYER_GLUE:?}" "${LAYER_CAPTURE:?}" "${LAYER_CORE_DIRS:?}" "${LAYER_DAEMON_DIRS:?}"
MAX_FILE=800
MAX_FUNC=120
bad=0
fail() {
	printf 'check-layers: %s\n' "$*" >&2
	bad=1
}
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

# the headers of glue and capture files: what a core must not include
glue_hdrs= capture_hdrs=
for f in $LAYER_GLUE; do glue_hdrs+=" ${f#user/}"; done
glue_hdrs=${glue_hdrs//.h/.c}
for f in $LAYER_CAPTURE; do capture_hdrs+=" ${f#user/}"; done
glue_hdrs=${glue_hdrs//.c/.h} capture_hdrs=${capture_hdrs//.c/.h}

layer_of() {
	local f=$1 dir=${1#user/}
	dir=${dir%%/*}
	local c=${f%.[ch]}.c
	if [ "$dir" = base ]; then echo base
	elif in_list "$c" "$LAYER_GLUE" || in_list "$f" "$LAYER_GLUE"; then echo glue
	elif in_list "$c" "$LAYER_CAPTURE" || in_list "$f" "$LAYER_CAPTURE"; then echo capture
	elif in_list "$dir" "$LAYER_CORE_DIRS"; then echo core
	elif in_list "$dir" "$LAYER_DAEMON_DIRS"; then echo daemon
	else echo unknown
	fi
}

edges=$(mktemp)
trap 'rm -f "$edges" "${link_c:-}" "${link_bin:-}"' EXIT
for f in $( (git ls-files 'user/*.c' 'user/*.h'; git ls-files -o --exclude-standard 'user/*.c' 'user/*.h') 2>/dev/null | sort -u); do
	dir=${f#user/}
	dir=${dir%%/*}
	[ "$dir" = "${f#user/}" ] && continue
	layer=$(layer_of "$f")
	[ "$layer" = unknown ] && { fail "$f: in no layer (add its folder to mk/layers.mk)"; continue; }
	while IFS= read -r inc; do
		hdir=${inc%%/*}
		[ "$hdir" = "$inc" ] && continue # "x.skel.h" and the like
		[ "$hdir" != fog ] && [ "$hdir" != "$dir" ] && printf '%s %s\n' "$dir" "$hdir" >>"$edges"
		case $inc in *_int.h)
			[ "$hdir" = "$dir" ] || fail "$f: includes \"$inc\", private to $hdir/" ;;
		esac
		case $layer in
		base)
			[ "$hdir" = base ] || [ "$hdir" = fog ] ||
				fail "$f: base includes \"$inc\" (base includes only base/ and fog/)"
			;;
		core)
			if [ "$hdir" != base ] && [ "$hdir" != fog ] && [ "$hdir" != "$dir" ]; then
				fail "$f: core includes \"$inc\" (a core includes fog/, base/ and $dir/ only)"
			elif in_list "$inc" "$glue_hdrs $capture_hdrs"; then
				fail "$f: core includes \"$inc\", a glue or capture header"
			fi
			;;
		capture)
			in_list "$hdir" "$LAYER_DAEMON_DIRS" &&
				fail "$f: the profiler's capture includes \"$inc\" (the daemon)"
			in_list "$inc" "$glue_hdrs" && fail "$f: capture includes glue \"$inc\""
			;;
		esac
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done

# folder cycles: tsort names the nodes of a cycle on stderr
cyc=$(sort -u "$edges" | tsort 2>&1 >/dev/null | sed -n 's/^tsort: //p' | grep -v 'input contains a loop')
[ -z "$cyc" ] || fail "the folders include each other in a circle: $(echo "$cyc" | tr '\n' ' ')"

# sizes: files, then functions (a body opens with '{' and closes with '}' in column 0)
srcs=$( (git ls-files 'user/*.[ch]' 'tools/*.[ch]' 'bpf/*.[ch]'; git ls-files -o --exclude-standard 'user/*.[ch]' 'tools/*.[ch]' 'bpf/*.[ch]') 2>/dev/null | sort -u)
for f in $srcs; do
	case $f in tools/examples/*) continue ;; esac
	n=$(wc -l <"$f")
	[ "$n" -le "$MAX_FILE" ] || fail "$f: $n lines (at most $MAX_FILE)"
done
while IFS= read -r l; do
	fail "$l"
done < <(awk -v max="$MAX_FUNC" '
	FNR == 1 { start = 0 }
	/^[A-Za-z_].*\(/ { head = $0 }
	/^\{/ { start = FNR; name = head }
	/^\}/ && start {
		if (FNR - start - 1 > max)
			printf "%s:%d: %s: %d lines (at most %d)\n", FILENAME, start, name, FNR - start - 1, max
		start = 0
	}' $(echo "$srcs" | grep '\.c$'))

# link closure: every object of each library resolves with its pkg-config libraries
if [ -n "${LIBFOG:-}" ] && [ -f "$LIBFOG" ]; then
	link_c=$(mktemp --suffix=.c)
	link_bin=$(mktemp)
	echo 'int main(void) { return 0; }' >"$link_c"
	# shellcheck disable=SC2086  # flag lists are words
	out=$(${CC:-cc} ${LDFLAGS:-} "$link_c" -Wl,--whole-archive "$LIBFOG" -Wl,--no-whole-archive \
		${FOG_LIBS:-} -o "$link_bin" 2>&1) ||
		fail "libfog.a does not link with fog.pc's libraries alone: $(echo "$out" |
			grep -m3 'undefined reference' | tr '\n' ' ')"
	if [ -n "${LIBFOGPROF:-}" ] && [ -f "$LIBFOGPROF" ]; then
		# shellcheck disable=SC2086
		out=$(${CC:-cc} ${LDFLAGS:-} "$link_c" -Wl,--whole-archive "$LIBFOGPROF" \
			-Wl,--no-whole-archive "$LIBFOG" ${FOGPROF_LIBS:-} ${FOG_LIBS:-} \
			-o "$link_bin" 2>&1) ||
			fail "libfogprof.a does not link with libfog and libbpf alone: $(echo "$out" |
				grep -m3 'undefined reference' | tr '\n' ' ')"
	fi
fi

[ "$bad" -eq 0 ] && echo "check-layers: base, cores, capture, glue and daemon keep their shape"
exit "$bad"
