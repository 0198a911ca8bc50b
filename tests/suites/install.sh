#!/usr/bin/env bash
# tests/suites/install.sh - a backend author's first hour, end to end.
#
# Installs build/ with DESTDIR and PREFIX (tools/install.sh, what `ninja
# install` runs; ninja itself is busy running this suite) into a temporary
# staging directory under a PREFIX that does not exist on this machine, then,
# from an empty directory and with nothing but the installed tree on PATH
# and PKG_CONFIG_PATH, runs README.md's two tutorials as written:
# "Validate your backend" (the example backend built with its Makefile
# against the installed header, linted and judged by the installed vdcc:
# 0 failures) and "Fuzz your backend" (the fuzz target built from the
# installed sources against the example; its one timed run shortened from
# -max_total_time=60 to -runs=3000).  Also: the manifest lists exactly what
# was written, vdcc finds its data from where it is installed or built and
# names what it searched when it cannot, --version, and uninstall leaving
# nothing behind.
#
# It installs and judges build/ (the optimised tools), whatever VDCC_BUILD
# is, so it runs once per `ninja test`, with VDCC_BUILD=build/asan; other
# variants would repeat the same 30-60 s.
set -u
b=${VDCC_BUILD:?VDCC_BUILD must name a build directory, e.g. build/asan}
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
if [ "$b" != build/asan ]; then
    echo "install: runs once, with VDCC_BUILD=build/asan (it installs build/, the same for every variant)"
    echo "0 passed, 0 failed"
    exit 0
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # name status log
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok   $1"
    else
        failed=$((failed + 1))
        echo "FAIL $1"
        [ -n "${3:-}" ] && [ -f "$3" ] && tail -n 25 "$3" | sed 's/^/    | /'
    fi
}
# readme_block TITLE: the first ```sh block after the heading "## TITLE".
readme_block() {
    awk -v h="## $1" '$0 == h {on=1; next} on && /^## / {exit} on && /^```sh$/ {inb=1; next}
        inb && /^```$/ {exit} inb {print}' README.md
}

dest=$tmp/stage
prefix=/opt/vdcc-install-test
inst=$dest$prefix
mkdir -p "$dest/opt/keep" && echo mine >"$dest/opt/keep/file"

start=$(date +%s)
DESTDIR=$dest PREFIX=$prefix tools/install.sh install build >"$tmp/install.log" 2>&1
check "install with DESTDIR and PREFIX" $? "$tmp/install.log"

missing=
for f in bin/vdcc lib/vdcc/VDPluginVciRef.so lib/vdcc/VDPluginVdccRecord.so include/vdcc/vdcache.h \
    lib/libvdchost.a lib/pkgconfig/vdcc.pc share/man/man1/vdcc.1 share/bash-completion/completions/vdcc \
    share/vdcc/spec/contract.md share/vdcc/spec/vbox-behaviour.md share/vdcc/examples/minimal-plugin/mini.c \
    share/vdcc/src/fuzz/fuzz_model.c share/vdcc/src/harness/host/host.h share/vdcc/src/spec/vdcache.h; do
    [ -f "$inst/$f" ] || missing="$missing $f"
done
n_src=$(find corpus -type f | wc -l)
n_inst=$(find "$inst/share/vdcc/corpus" -type f | wc -l)
[ -z "$missing" ] && [ "$n_src" -eq "$n_inst" ]
check "every part is installed (missing:${missing:- none}; corpus $n_inst of $n_src files)" $?
[ -x "$inst/bin/vdcc" ] && [ ! -x "$inst/include/vdcc/vdcache.h" ] && cmp -s spec/vdcache.h "$inst/include/vdcc/vdcache.h"
check "bin/vdcc is executable, the header is the tree's and is not" $?

# The manifest lists exactly the files under the staging directory (but
# the one that was there before, and the manifest itself).
(cd "$dest" && find . -type f ! -path ./opt/keep/file | sed 's|^\.||' | LC_ALL=C sort) >"$tmp/found"
(sed -n 's/^f //p' "$inst/share/vdcc/install-manifest"; echo "$prefix/share/vdcc/install-manifest") |
    LC_ALL=C sort >"$tmp/listed"
diff "$tmp/listed" "$tmp/found" >"$tmp/manifest.diff"
check "the manifest lists exactly the files installed" $? "$tmp/manifest.diff"

# From here on only the installed tree: an empty directory, the staged
# bin/ first on PATH, pkg-config looking at the staged vdcc.pc.
work=$tmp/work
mkdir -p "$work"
export PATH="$inst/bin:$PATH" PKG_CONFIG_PATH="$inst/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
unset VDCC_DATADIR

contract=$(sed -n 's/^Contract version: *\([0-9][0-9.]*\).*/\1/p' spec/contract.md | head -n 1)
(cd "$work" && vdcc --version) >"$tmp/version" 2>&1
grep -qxE "vdcc [A-Za-z0-9._+-]+ \(contract ${contract//./\\.}\)" "$tmp/version"
check "vdcc --version names a revision and contract $contract ($(cat "$tmp/version"))" $? "$tmp/version"

(cd "$work" && vdcc coverage) >"$tmp/coverage" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -qF "$inst/share/vdcc/spec/contract.md" "$tmp/coverage"
check "coverage from an empty directory reads the installed contract and corpus (status $rc)" $? "$tmp/coverage"

(cd "$work" && "$root/$b/vdcc" coverage) >"$tmp/coverage-tree" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -qF "$root/spec/contract.md" "$tmp/coverage-tree"
check "a vdcc in the build tree, run elsewhere, reads the source tree's data (status $rc)" $? "$tmp/coverage-tree"

mkdir -p "$tmp/lonely"
cp "$inst/bin/vdcc" "$tmp/lonely/vdcc"
(cd "$work" && "$tmp/lonely/vdcc" conform) >"$tmp/lonely.log" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -qF "cannot find corpus/conformance" "$tmp/lonely.log" &&
    grep -qF "$tmp/lonely/../share/vdcc" "$tmp/lonely.log" && grep -qF VDCC_DATADIR "$tmp/lonely.log"
check "a vdcc without its data says what it searched and how to point it (status $rc)" $? "$tmp/lonely.log"

(cd "$work" && VDCC_DATADIR=$tmp/nowhere vdcc conform) >"$tmp/nowhere.log" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -qF "VDCC_DATADIR=$tmp/nowhere" "$tmp/nowhere.log"
check "a wrong VDCC_DATADIR is named, not silently bypassed (status $rc)" $? "$tmp/nowhere.log"

(cd "$work" && VDCC_DATADIR=$inst/share/vdcc "$tmp/lonely/vdcc" coverage) >"$tmp/override.log" 2>&1
check "VDCC_DATADIR points a lone vdcc at its data" $? "$tmp/override.log"

# README: Validate your backend, as written.
readme_block "Validate your backend" >"$tmp/validate.sh"
t0=$(date +%s)
(cd "$work" && bash -euo pipefail "$tmp/validate.sh") >"$tmp/validate.log" 2>&1
rc=$?
t1=$(date +%s)
[ -s "$tmp/validate.sh" ] && [ $rc -eq 0 ] && grep -qE '^[0-9]+ passed, 0 failed' "$tmp/validate.log" &&
    [ -s "$work/mine/conform.xml" ] && [ -f "$work/mine/VDPluginMini.so" ]
check "README 'Validate your backend' works from an empty directory: $(grep -E '^[0-9]+ passed' "$tmp/validate.log" | tail -n 1) ($((t1 - t0)) s, status $rc)" $? "$tmp/validate.log"
grep -q '<testsuite' "$work/mine/conform.xml" 2>/dev/null && ! grep -q '<failure' "$work/mine/conform.xml"
check "its JUnit report holds the run and no failure" $? "$work/mine/conform.xml"

# README: Fuzz your backend, as written but for a shorter run.
readme_block "Fuzz your backend" | sed 's/-max_total_time=60/-runs=3000/' >"$tmp/fuzz.sh"
t0=$(date +%s)
(cd "$work/mine" && bash -euo pipefail "$tmp/fuzz.sh") >"$tmp/fuzz.log" 2>&1
rc=$?
t1=$(date +%s)
[ -s "$tmp/fuzz.sh" ] && grep -q -- '-runs=3000' "$tmp/fuzz.sh" && [ $rc -eq 0 ] && [ -x "$work/mine/fuzz_model_mini" ] &&
    grep -qE 'Done [0-9]+ runs' "$tmp/fuzz.log"
check "README 'Fuzz your backend' builds and runs the target ($((t1 - t0)) s, status $rc)" $? "$tmp/fuzz.log"

cd "$root" || exit 2
DESTDIR=$dest PREFIX=$prefix tools/install.sh uninstall >"$tmp/uninstall.log" 2>&1
rc=$?
left=$(cd "$dest" && find . -mindepth 1 ! -path ./opt ! -path ./opt/keep ! -path ./opt/keep/file | head -n 5)
[ $rc -eq 0 ] && [ -z "$left" ] && [ -f "$dest/opt/keep/file" ]
check "uninstall removes what install wrote and nothing else (left: ${left:-nothing})" $? "$tmp/uninstall.log"

echo "install: $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
