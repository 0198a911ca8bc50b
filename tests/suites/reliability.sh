#!/usr/bin/env bash
# tests/suites/reliability.sh - the crash test and the fault sweep
# (spec/contract.md CRASH-1, HOST-2; harness/reliability/crash.h, faults.h)
# over every trace of corpus/conformance/, on the reference backend.
#
# Usage: VDCC_BUILD=build/asan bash tests/suites/reliability.sh
#   One test per (trace, tool): `vdcc crashtest --backend ref TRACE` and
#   `vdcc faults --backend ref TRACE`, each passing when it exits 0 (no
#   violation).  A trace the workload converter reports as unsupported
#   fails (every corpus trace is expected to convert).  A crash test whose
#   workload outgrows the crash recorder ("could not run: VERR_TOO_MUCH_DATA",
#   harness/reliability/fs_crash.h) is skipped, not failed: the limit is the
#   harness's, as in `vdcc conform`'s sweeps.
#
# Bounds (so the suite stays within about a minute under the sanitizers on
# a loaded 2-core machine): crash points and fault points are sampled
# evenly and deterministically (--max-points), and crash states per point
# are capped (--max-states-per-point), and so are the backend's allocations
# failed in turn (--max-alloc-points); the bound is tighter for long
# traces, since every fault point reruns the whole workload.  The tools run
# in this process's children without their own isolation (--no-isolate; a
# crash still fails the test through the exit status) under `timeout`, two
# at a time.
#
# FLUSH-2: each crash test also compares, right after every successful
# flush, every crash state with the state where all pending writes landed
# (harness/reliability/crash.h).  For other backends a loss is a quality
# warning; the reference backend must have none, so the suite adds one test
# that the flush points of all traces lose nothing on ref.
#
# Prints, last, the total crash states checked and fault points tried (the
# sum of the tools' count lines), the FLUSH-2 totals, then "N passed, N
# failed"; exits 1 on any failure.
set -u
B=${VDCC_BUILD:-build/asan}
VDCC=$B/vdcc
JOBS=${VDCC_REL_JOBS:-2}
TOOL_TIMEOUT=${VDCC_REL_TIMEOUT:-120}
[ -x "$VDCC" ] || { echo "reliability: $VDCC not built"; echo "0 passed, 1 failed"; exit 1; }

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Bounds by trace length (records, i.e. non-blank non-comment lines).
bounds() { # trace -> sets CR (crashtest args) and FA (faults args)
    local n
    n=$(grep -cvE '^[[:space:]]*(#|$)' "$1")
    if [ "$n" -gt 1000 ]; then
        CR="--max-points 4 --max-states-per-point 6"
        FA="--max-points 1 --max-alloc-points 4 --modes io,full-stuck,nomem,nomem-stuck"
    elif [ "$n" -gt 300 ]; then
        CR="--max-points 6 --max-states-per-point 6"
        FA="--max-points 2 --max-alloc-points 8 --modes io,full-stuck,nomem,nomem-stuck"
    else
        CR="--max-points 10 --max-states-per-point 8"
        FA="--max-points 4 --max-alloc-points 32"
    fi
}

run_tool() { # out-file tool args...
    local out=$1; shift
    local s e rc
    s=${EPOCHREALTIME/./}
    timeout -k 5 "$TOOL_TIMEOUT" "$VDCC" "$@" >"$out" 2>&1
    rc=$?
    e=${EPOCHREALTIME/./}
    echo "rc=$rc ms=$(( (e - s) / 1000 ))" >"$out.rc"
}

traces=(corpus/conformance/*.trace)
[ -e "${traces[0]}" ] || { echo "reliability: no traces"; echo "0 passed, 1 failed"; exit 1; }
start=${EPOCHREALTIME/./}
i=0
names=() bargs=() running=0
for t in "${traces[@]}"; do
    bounds "$t"
    for tool in crashtest faults; do
        args=$CR
        [ $tool = faults ] && args=$FA
        names[i]="$tool ${t##*/}"
        bargs[i]=$args
        # shellcheck disable=SC2086
        run_tool "$tmp/$i" "$tool" --backend ref --no-isolate $args "$t" &
        i=$((i + 1))
        running=$((running + 1))
        if [ "$running" -ge "$JOBS" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
done
wait
end=${EPOCHREALTIME/./}

pass=0 fail=0 skip=0 states=0 points=0 fpoints=0 flossy=0 ffirst=''
re_s='^crash points: [0-9]+, crash states checked: ([0-9]+)'
re_p='^fault points tried: ([0-9]+)'
re_f='^FLUSH-2: ([0-9]+) flush point\(s\) checked, ([0-9]+) lose data'
for ((k = 0; k < i; k++)); do
    out=$tmp/$k
    rc=1 ms=0 s='' p=''
    [ -f "$out.rc" ] && read -r rc ms <"$out.rc"
    rc=${rc#rc=} ms=${ms#ms=}
    while IFS= read -r line; do
        [[ $line =~ $re_s ]] && s=${BASH_REMATCH[1]}
        [[ $line =~ $re_p ]] && p=${BASH_REMATCH[1]}
        if [[ $line =~ $re_f ]]; then
            fpoints=$((fpoints + BASH_REMATCH[1]))
            flossy=$((flossy + BASH_REMATCH[2]))
            if [ "${BASH_REMATCH[2]}" != 0 ] && [ -z "$ffirst" ]; then
                ffirst="${names[k]}: $(grep -m1 '^first warning: ' "$out")"
            fi
        fi
    done <"$out"
    states=$((states + ${s:-0}))
    points=$((points + ${p:-0}))
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1))
        printf 'ok   %-48s %6d ms  %s\n' "${names[k]}" "$ms" "${s:+$s states}${p:+$p fault points}"
    elif [ "$rc" = 1 ] && grep -q 'the crash test could not run: VERR_TOO_MUCH_DATA' "$out"; then
        skip=$((skip + 1))
        printf 'skip %-48s %6d ms  (the workload outgrows the crash recorder)\n' "${names[k]}" "$ms"
    else
        fail=$((fail + 1))
        printf 'FAIL %-48s %6d ms  (exit %s)\n' "${names[k]}" "$ms" "$rc"
        echo "     rerun: $VDCC ${names[k]%% *} --backend ref --no-isolate ${bargs[k]} corpus/conformance/${names[k]#* }"
        tail -n 15 "$out" | sed 's/^/     | /'
    fi
done
if [ "$fpoints" -gt 0 ] && [ "$flossy" -eq 0 ]; then
    pass=$((pass + 1))
    echo "ok   FLUSH-2 on ref: $fpoints flush point(s) checked, none loses data"
else
    fail=$((fail + 1))
    echo "FAIL FLUSH-2 on ref: $fpoints flush point(s) checked, $flossy lose data"
    [ -n "$ffirst" ] && echo "     $ffirst"
fi
echo "reliability: $B: $(( (end - start) / 1000 )) ms wall, $JOBS jobs"
echo "total crash states checked: $states"
echo "total fault points tried: $points"
[ "$skip" -eq 0 ] || echo "skipped (too much data for the crash recorder): $skip"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
