#!/usr/bin/env bash
# tests/suites/fuzz_uninit.sh - proves MemorySanitizer sees what ASan cannot.
#
# $VDCC_BUILD/fuzz_probe_uninit is fuzz_probe over fuzz/tests/uninit_backend.c,
# whose probe reads 2 bytes into a 1024-byte buffer and branches on byte 512.
# Under build/msan (VDCC_BUILD ending in msan) the replay of a 1 KiB file must
# die with a use-of-uninitialized-value report whose origin is that buffer;
# under build/asan (ending in asan) it must pass: ASan cannot see the bug.
# Other builds: nothing is asserted (0 passed, 0 failed).
set -u
b=${VDCC_BUILD:?VDCC_BUILD must name a build directory, e.g. build/asan}
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # name condition-status
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

# 1 KiB starting "VC": long enough for the backend to read its 2 bytes.
{ printf 'VC'; head -c 1022 /dev/zero; } >"$tmp/header"
"$b/fuzz_probe_uninit" "$tmp/header" >"$tmp/log" 2>&1
rc=$?
case $b in
*msan)
    [ $rc -ne 0 ]
    check "msan: the replay dies (status $rc)" $?
    grep -q 'MemorySanitizer: use-of-uninitialized-value' "$tmp/log"
    check "msan: reports use-of-uninitialized-value" $?
    grep -q "allocation of 'hdr' in the stack frame of function 'uninit_probe'" "$tmp/log"
    check "msan: the origin is uninit_probe's header buffer" $?
    ;;
*asan)
    [ $rc -eq 0 ] && grep -q '^1 passed, 0 failed' "$tmp/log"
    check "asan: the replay passes (status $rc)" $?
    ;;
esac
if [ "$failed" -ne 0 ]; then
    sed 's/^/    | /' "$tmp/log" | head -n 30
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
