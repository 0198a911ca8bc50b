#!/usr/bin/env bash
# tests/suites/record_vbox.sh - recording a VirtualBox-like session and
# replaying it (issue 20).  $VDCC_BUILD/record/extvd plays VirtualBox's part
# with none of vdcc's host code (harness/record/tests/extvd.c): it makes a
# VCI image through ref's plugin, then, through VDPluginVdccRecord.so, two
# processes at once each probe a foreign file, open a copy of that image
# (which predates the recording), read its old data, miss, write, read back,
# flush, close and reopen it read-only.  Checked, for VDCC_RECORD_IMAGES=meta
# and full: one trace per process in the output directory, each naming its
# process and backend, with sidecars; `vdcc replay DIR` and `--strict` pass
# every trace against ref (0 failures); meta keeps only metadata bytes, full
# keeps the data too; none says the replay will differ, and it does; a
# trace file that exists is refused and left untouched.  Also: hostile
# sidecars (a replay ERROR naming the field, never a crash).  Prints
# "N passed, N failed" last.  Run from the repository root.
set -u
B=${VDCC_BUILD:-build}
V=$B/vdcc
X=$B/record/extvd
REC=$B/VDPluginVdccRecord.so
REF=$B/VDPluginVciRef.so
T=$(mktemp -d "${TMPDIR:-/tmp}/vdcc-record.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
    fail=$((fail + 1))
    echo "not ok - $1"
    if [ -n "${out:-}" ]; then sed 's/^/    | /' <<<"$out" | head -n 40; fi
}
run() { out=$("$@" 2>&1); rc=$?; }
expect() {
    local name=$1 want=$2 p
    shift 2
    if [ "$rc" -ne "$want" ]; then bad "$name (exit $rc, wanted $want)"; return; fi
    for p in "$@"; do
        if ! grep -Eq -- "$p" <<<"$out"; then bad "$name (no /$p/)"; return; fi
    done
    ok "$name"
}

run "$X" "$REF" mkimage "$T/base.vci"
expect "extvd makes a VCI image through ref's plugin" 0
# record MODE: a session of two processes at once into $T/MODE/rec/
record() {
    local m=$1
    mkdir -p "$T/$m"
    cp "$T/base.vci" "$T/$m/a.vci" && cp "$T/base.vci" "$T/$m/b.vci"
    run env VDCC_RECORD_PLUGIN="$REF" VDCC_RECORD_OUT="$T/$m/rec/" VDCC_RECORD_IMAGES="$m" \
        "$X" "$REC" session "$T/$m/a.vci" "$T/$m/b.vci"
}
for m in meta full; do
    record "$m"
    expect "$m: two processes at once through the recording plugin: every check of extvd holds" 0
    n=$(ls "$T/$m/rec/"*.trace 2>/dev/null | wc -l)
    if [ "$n" -eq 2 ]; then ok "$m: one trace per process"; else out=$(ls -la "$T/$m/rec/") bad "$m: $n traces"; fi
    run grep -h '^# recorded-by VDPluginVdccRecord pid=[0-9]* exe=.*extvd plugin=.*VDPluginVciRef.so images='"$m"' backends=vci$' \
        "$T/$m/rec/"*.trace
    expect "$m: each trace names its process, plugin and backend" 0
    [ "$(wc -l <<<"$out")" -eq 2 ] || bad "$m: provenance lines: $(wc -l <<<"$out")"
    run grep -c '^image [ab].vci sidecar=vdcc-[0-9TZ]*-[0-9]*.img[0-9]*$' "$T/$m/rec/"*.trace
    expect "$m: the pre-existing image is kept in a sidecar" 0 ':1$'
    run "$V" replay --backend "$REF" "$T/$m/rec"
    expect "$m: vdcc replay DIR passes every trace" 0 '^PASS .*\.trace \(16 of 16 calls\)' '^2 passed, 0 failed$'
    run "$V" replay --strict --backend "$REF" "$T/$m/rec"
    expect "$m: vdcc replay --strict DIR passes every trace" 0 '^2 passed, 0 failed$'
done
# What the sidecars keep: meta no data bytes (the 196 KiB of data as a
# pattern), full the data too; both far less than the image.
sz() { stat -c %s "$1"; }
meta_sc=$(grep -h '^image a.vci ' "$T"/meta/rec/*.trace | sed 's/.*sidecar=//')
full_sc=$(grep -h '^image a.vci ' "$T"/full/rec/*.trace | sed 's/.*sidecar=//')
ms=$(sz "$T/meta/rec/$meta_sc") fs=$(sz "$T/full/rec/$full_sc") is=$(sz "$T/base.vci")
if [ "$ms" -lt 16384 ] && [ "$fs" -gt $((196 * 1024)) ] && [ "$fs" -lt "$is" ]; then
    ok "sidecars: meta $ms bytes, full $fs bytes, image $is bytes"
else
    out="" bad "sidecars: meta $ms bytes, full $fs bytes, image $is bytes"
fi
run grep -h 'a.vci existed before the recording: .* keeps its VCI image (266240 bytes: [0-9]* kept, 200704 as pattern' \
    "$T"/meta/rec/*.trace
expect "meta: the data (196 KiB) is a generator, the metadata bytes" 0
record none
expect "none: the session runs" 0
run grep -h 'a.vci existed before the recording and is not kept (VDCC_RECORD_IMAGES=none): a replay of what follows will differ' \
    "$T"/none/rec/*.trace
expect "none: the trace says the replay will differ" 0
run "$V" replay --backend "$REF" "$T/none/rec"
expect "none: ... and it does" 1 '0 passed, 2 failed'

# A trace that exists is never appended to.
mkdir -p "$T/fixed"
echo "keep me" >"$T/fixed/rec.trace"
cp "$T/base.vci" "$T/fixed/a.vci"
run env VDCC_RECORD_PLUGIN="$REF" VDCC_RECORD_OUT="$T/fixed/rec.trace" "$X" "$REC" session "$T/fixed/a.vci"
expect "an existing trace file: the session still runs, unrecorded" 0 \
    'rec.trace exists, and a recording never appends to a trace: this process \(pid [0-9]+\) is not recorded'
if [ "$(cat "$T/fixed/rec.trace")" = "keep me" ]; then ok "... and the file is untouched"; else bad "the file changed"; fi
run env VDCC_RECORD_PLUGIN="$REF" VDCC_RECORD_OUT="$T/fixed/rec-%p.trace" "$X" "$REC" session "$T/fixed/a.vci"
expect "%p names the trace by pid" 0
n=$(ls "$T"/fixed/rec-[0-9]*.trace 2>/dev/null | wc -l)
if [ "$n" -eq 1 ]; then ok "... one file"; else out="" bad "%p: $n files"; fi
run env VDCC_RECORD_PLUGIN="$REF" VDCC_RECORD_OUT="$T/x" VDCC_RECORD_IMAGES=some "$X" "$REC" session "$T/fixed/a.vci"
expect "VDCC_RECORD_IMAGES=some is refused" 2 "VDCC_RECORD_IMAGES='some': wanted none, meta or full"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
