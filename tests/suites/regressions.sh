#!/usr/bin/env bash
# tests/suites/regressions.sh - replays the workload regressions of
# corpus/regressions/crashtest/*.args: each file holds the arguments of one
# `vdcc crashtest` run that once found a violation (comment lines start
# with #); the backend is ref unless the arguments name one (--backend).
# Then the trace regressions corpus/regressions/replay/*.trace, each replayed
# with the arguments of its .args file (the same rules; @BUILD@ stands for
# the variant's directory, for plugin backends): it must not fail (PASS, or
# SKIP where the trace says so).  Fuzz-input regressions are
# replayed by fuzz_replay.sh.
set -u
vdcc=${VDCC_BUILD:-build/asan}/vdcc
pass=0 fail=0
for f in corpus/regressions/crashtest/*.args; do
    [ -f "$f" ] || continue
    args=$(grep -v '^#' "$f" | tr '\n' ' ')
    case " $args " in *" --backend "*) ;; *) args="--backend ref $args" ;; esac
    # shellcheck disable=SC2086
    if out=$("$vdcc" crashtest $args 2>&1) && grep -q '^violations: 0$' <<<"$out"; then
        pass=$((pass + 1)); echo "ok - $f"
    else
        fail=$((fail + 1)); echo "not ok - $f"; tail -n 5 <<<"$out" | sed 's/^/    /'
    fi
done
for t in corpus/regressions/replay/*.trace; do
    [ -f "$t" ] || continue
    args=""
    [ -f "${t%.trace}.args" ] && args=$(grep -v '^#' "${t%.trace}.args" | tr '\n' ' ')
    args=${args//@BUILD@/${VDCC_BUILD:-build/asan}} # plugins built with this variant
    case " $args " in *" --backend "*) ;; *) args="--backend ref $args" ;; esac
    # shellcheck disable=SC2086
    if out=$("$vdcc" replay $args "$t" 2>&1) && ! grep -q '^FAIL ' <<<"$out"; then
        pass=$((pass + 1)); echo "ok - $t"
    else
        fail=$((fail + 1)); echo "not ok - $t"; tail -n 5 <<<"$out" | sed 's/^/    /'
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
