#!/usr/bin/env bash
# tests/suites/fuzz_toy.sh - the model fuzzer judges the contract, not VCI,
# and it catches a lie.
#
# $VDCC_BUILD/fuzz_model_toy is fuzz_model built against the harness's toy
# backend (harness/tests/backends/toy.c: correct, not VCI, 4 KiB blocks).
# It must replay every fuzz_model seed and regression cleanly: none of them
# may rely on VCI behaviour.  $VDCC_BUILD/fuzz_model_lying is the same over
# the toy built with TB_DEFECT_WRONGDATA (an odd block's hit serves the next
# slot's bytes); on fuzz/tests/lying-toy.model (write 16 KiB, read it back)
# it must abort with a READ-1 contract violation.
set -u
b=${VDCC_BUILD:?VDCC_BUILD must name a build directory, e.g. build/asan}
cd "$(dirname "$0")/../.." || exit 2
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
        tail -n 20 "$3" | sed 's/^/    | /'
    fi
}

dirs=fuzz/tests/lying-toy.model
for d in corpus/seeds/fuzz_model corpus/regressions/fuzz_model; do
    [ -d "$d" ] && dirs="$dirs $d"
done
# shellcheck disable=SC2086
"$b/fuzz_model_toy" $dirs >"$tmp/toy.log" 2>&1
check "the correct toy passes every fuzz_model seed and regression" $? "$tmp/toy.log"

# Through sh, so the shell's "Aborted" notice goes to /dev/null, not the log.
sh -c '"$1" fuzz/tests/lying-toy.model >"$2" 2>&1; exit $?' sh "$b/fuzz_model_lying" "$tmp/lying.log" 2>/dev/null
rc=$?
[ $rc -ne 0 ] && grep -q 'contract violation \[READ-1\]' "$tmp/lying.log"
check "the lying toy is caught (READ-1, status $rc)" $? "$tmp/lying.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
