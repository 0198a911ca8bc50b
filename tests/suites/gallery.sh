#!/usr/bin/env bash
# tests/suites/gallery.sh - vdcc's verdicts on a gallery of backends built
# in other ways than ref and toy (harness/tests/backends/gallery/, issue 17).
#
# Each correct gallery backend ($VDCC_BUILD/gal_NAME.so) must pass the
# default `vdcc conform` (crash and fault sweeps included) with 0 failures.
# Each defective twin ($VDCC_BUILD/gal_NAME_DEFECT.so, the same source with
# one GAL_DEFECT_* define) must fail, and one of its failing test points must
# be charged with the clause its defect breaks (the failing record's
# `clause=` list or the sweep's `clause:`).  Twins run the replays alone, or
# one trace with the crash sweep when their defect only shows after a crash.
# Prints the table backend x verdict and ends with "N passed, N failed".
set -u
b=${VDCC_BUILD:?VDCC_BUILD must name a build directory, e.g. build/asan}
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
c=corpus/conformance
passed=0 failed=0
table=()

# The clauses charged to the failing test points of a TAP report, one a line.
charged() {
    awk '/^not ok/ { p = 1; next }
         /^ok / { p = 0 }
         p && /^  record: / && match($0, /clause=[A-Z0-9,-]+/) {
             n = split(substr($0, RSTART + 7, RLENGTH - 7), a, ","); for (i = 1; i <= n; i++) print a[i] }
         p && /^  clause: / { gsub(/"/, "", $2); print $2 }
         p && /^  \.\.\./ { p = 0 }' "$1" | sort -u
}

verdict() { # name expected-verdict actual-verdict ok(0/1) log
    if [ "$4" -eq 0 ]; then
        passed=$((passed + 1))
        table+=("$(printf '%-26s %-22s %-40s ok' "$1" "$2" "$3")")
    else
        failed=$((failed + 1))
        table+=("$(printf '%-26s %-22s %-40s WRONG' "$1" "$2" "$3")")
        echo "--- $1: expected $2, got $3"
        grep -E '^(not ok|  (record|clause|message|rerun):)' "$5" | head -n 40 | sed 's/^/    | /'
    fi
}

# A correct backend: the default run, nothing may fail.
correct() { # name
    local log="$tmp/$1.tap" rc summary
    "$b/vdcc" conform --backend "$b/gal_$1.so" -j 2 >"$log" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    verdict "gal_$1" "pass" "${summary:-exit $rc}" $((rc != 0)) "$log"
}

# A twin: must fail, charged with CLAUSE.  Options and traces follow.
twin() { # name clause conform-args...
    local name=$1 clause=$2 log="$tmp/$1.tap" rc got
    shift 2
    "$b/vdcc" conform --backend "$b/gal_$name.so" -j 2 "$@" >"$log" 2>&1
    rc=$?
    got=$(charged "$log" | tr '\n' ' ')
    if [ $rc -eq 1 ] && grep -qx -- "$clause" <(charged "$log"); then
        verdict "gal_$name" "fail $clause" "fail $clause" 0 "$log"
    elif [ $rc -eq 0 ]; then
        verdict "gal_$name" "fail $clause" "pass" 1 "$log"
    else
        verdict "gal_$name" "fail $clause" "exit $rc: ${got:-no clause}" 1 "$log"
    fi
}

start=$(date +%s)
for name in sector decline miss log; do
    correct "$name"
done
replays=(--no-crash --no-faults)
twin sector_lie            READ-1  "${replays[@]}" "$c/overwrite.trace" "$c/reopen-ro.trace"
twin sector_uuidlost       UUID-2  "${replays[@]}" "$c/uuid-mod.trace"
twin sector_nobarrier      CRASH-1 --no-faults "$c/overwrite.trace"
twin decline_zerocount     WRITE-1 "${replays[@]}"
twin decline_noinvalidate  CRASH-1 --no-faults "$c/reopen-rw.trace"
twin miss_misszero         READ-2  "${replays[@]}" "$c/x-read-protocol.trace"
twin miss_probeall         PROBE-1 "${replays[@]}" "$c/probe.trace"
twin log_reopenstale       READ-5  "${replays[@]}" "$c/gen-exhaustive-d3-wA.trace"
twin log_nosync            CRASH-1 --no-faults "$c/overwrite.trace"
twin log_rowrite           WRITE-3 "${replays[@]}" "$c/reopen-ro.trace"

printf '%-26s %-22s %-40s %s\n' backend expected actual ""
printf '%s\n' "${table[@]}"
echo "($(($(date +%s) - start)) s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
