#!/bin/sh
# tools/install.sh install|uninstall [BUILD] - what `ninja install` and
# `ninja uninstall` run.  BUILD is the build directory holding the optimised
# tools (default build).
#
# Where: the environment, as ninja has no variables of its own on its
# command line:
#   PREFIX   the installation prefix (default /usr/local); vdcc finds its
#            data relative to its own executable, so PREFIX is not compiled in
#   DESTDIR  prepended to every path written (staging for packages);
#            the installed tree still works where it is (datadir.h)
# e.g.  PREFIX=$HOME/.local ninja install
#       DESTDIR=/tmp/stage PREFIX=/usr ninja install
#
# What (relative to PREFIX):
#   bin/vdcc                                the tool
#   lib/vdcc/VDPluginVciRef.so              the reference VCI backend plugin
#   lib/vdcc/VDPluginVdccRecord.so          the recording plugin
#   lib/libvdchost.a                        the host library the fuzz targets link
#   lib/pkgconfig/vdcc.pc                   pkg-config: vdcc/vdcache.h, the host
#                                           library and the fuzz sources
#   include/vdcc/vdcache.h                  the cache-backend ABI
#   share/vdcc/corpus/ share/vdcc/spec/     vdcc's data directory (corpus,
#                                           contract, formats, VD's behaviour)
#   share/vdcc/examples/                    the example backend and CI files
#   share/vdcc/src/                         the fuzz targets' sources and the
#                                           headers they include (fuzz/README.md)
#   share/man/man1/vdcc.1                   the manual page
#   share/bash-completion/completions/vdcc  bash completion
#   share/vdcc/install-manifest             every file and directory written
#
# uninstall removes the files the manifest lists, then the directories it
# created that are empty, then the manifest: nothing install did not write.
# Exit status: 0 done, 1 a file could not be copied or removed, 2 usage or
# a missing build product (run `ninja` first).
set -eu

verb=${1:-}
build=${2:-build}
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
root=$(cd "$(dirname "$0")/.." && pwd)
case $prefix in
    /*) ;;
    *) echo "tools/install.sh: PREFIX must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
prefix=${prefix%/}
manifest=$prefix/share/vdcc/install-manifest

die() { echo "tools/install.sh: $*" >&2; exit "${rc:-1}"; }

# --- uninstall ------------------------------------------------------------
if [ "$verb" = uninstall ]; then
    [ -f "$destdir$manifest" ] || rc=2 die "no $destdir$manifest: nothing was installed with PREFIX=$prefix${destdir:+ DESTDIR=$destdir}"
    list=$(cat "$destdir$manifest") || die "cannot read $destdir$manifest"
    # Files first (the manifest too), then the directories install created,
    # deepest first, when nothing else lives in them.
    printf '%s\n' "$list" | sed -n "s|^f |$destdir|p" | xargs -r -d '\n' rm -f -- ||
        die "cannot remove every file of $destdir$manifest"
    rm -f "$destdir$manifest" || die "cannot remove $destdir$manifest"
    printf '%s\n' "$list" | sed -n "s|^d |$destdir|p" | LC_ALL=C sort -r |
        xargs -r -d '\n' rmdir --ignore-fail-on-non-empty -- 2>/dev/null || true
    echo "removed vdcc from $destdir$prefix"
    exit 0
fi
[ "$verb" = install ] || rc=2 die "usage: tools/install.sh install|uninstall [BUILD]"

for f in vdcc VDPluginVciRef.so VDPluginVdccRecord.so libvdchost.a; do
    [ -f "$build/$f" ] || rc=2 die "$build/$f is missing: build it first (ninja)"
done

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp" "$tmp.list" "$tmp.pc"' EXIT
# An earlier installation's manifest is kept, so that uninstall still
# removes what that one wrote; entries are deduplicated at the end.
if [ -f "$destdir$manifest" ]; then
    cp "$destdir$manifest" "$tmp"
fi

# mkdirs DIR: creates DIR and its missing parents, listing those it created.
mkdirs() {
    if [ ! -d "$destdir$1" ]; then
        mkdirs "$(dirname "$1")"
        mkdir "$destdir$1" || die "cannot create $destdir$1"
        echo "d $1" >>"$tmp"
    fi
}

# put MODE SRC DEST: copies one file.
put() {
    mkdirs "$(dirname "$3")"
    cp "$2" "$destdir$3.tmp$$" && chmod "$1" "$destdir$3.tmp$$" && mv -f "$destdir$3.tmp$$" "$destdir$3" ||
        die "cannot install $2 as $destdir$3"
    echo "f $3" >>"$tmp"
}

# tree DEST PATH...: copies files and directories (files only, 0644),
# keeping their paths relative to the source root; one tar for them all.
tree() {
    dest=$1
    shift
    (cd "$root" && find "$@" -type f | LC_ALL=C sort) >"$tmp.list" || die "cannot list $*"
    sed -n 's|/[^/]*$||p' "$tmp.list" | LC_ALL=C sort -u | while IFS= read -r d; do
        mkdirs "$dest/$d"
    done
    (cd "$root" && tar -cf - --no-recursion --mode=u=rw,go=r -T "$tmp.list") |
        (cd "$destdir$dest" && tar -xf - --no-same-owner) || die "cannot copy $* into $destdir$dest"
    sed "s|^|f $dest/|" "$tmp.list" >>"$tmp"
    rm -f "$tmp.list"
}

bindir=$prefix/bin
libdir=$prefix/lib
incdir=$prefix/include
datadir=$prefix/share/vdcc

put 755 "$build/vdcc" "$bindir/vdcc"
put 755 "$build/VDPluginVciRef.so" "$libdir/vdcc/VDPluginVciRef.so"
put 755 "$build/VDPluginVdccRecord.so" "$libdir/vdcc/VDPluginVdccRecord.so"
put 644 "$build/libvdchost.a" "$libdir/libvdchost.a"
put 644 "$root/spec/vdcache.h" "$incdir/vdcc/vdcache.h"
put 644 "$root/doc/vdcc.1" "$prefix/share/man/man1/vdcc.1"
put 644 "$root/doc/vdcc.bash" "$prefix/share/bash-completion/completions/vdcc"
tree "$datadir" corpus spec examples
# The fuzz targets as fuzz/README.md builds them against another backend,
# with the host library's headers and sources (an MSan build compiles the
# host itself: every object must be instrumented).
tree "$datadir/src" fuzz/fuzz.h fuzz/script.h fuzz/fuzzlib.c fuzz/script.c fuzz/standalone.c \
    fuzz/mutator.c fuzz/fuzz_probe.c fuzz/fuzz_open.c fuzz/fuzz_ops.c fuzz/fuzz_model.c \
    fuzz/fuzz_probe.options fuzz/fuzz_open.options fuzz/fuzz_ops.options fuzz/fuzz_model.options \
    fuzz/vci.dict fuzz/README.md spec/vdcache.h harness/host/*.h harness/host/*.c

sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$("$build/vdcc" --version | cut -d' ' -f2)|" \
    "$root/tools/vdcc.pc.in" >"$tmp.pc" || die "cannot write vdcc.pc"
put 644 "$tmp.pc" "$libdir/pkgconfig/vdcc.pc"
rm -f "$tmp.pc"

mkdirs "$datadir"
sort -u "$tmp" | LC_ALL=C sort -k2 >"$destdir$manifest.tmp" && mv -f "$destdir$manifest.tmp" "$destdir$manifest" ||
    die "cannot write $destdir$manifest"
echo "installed vdcc into $destdir$prefix ($(grep -c '^f ' "$destdir$manifest") files; ninja uninstall removes them)"
