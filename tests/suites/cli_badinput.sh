#!/usr/bin/env bash
# tests/suites/cli_badinput.sh - every vdcc subcommand fed bad input.
#
# Walks each subcommand of $VDCC_BUILD/vdcc (default build/) with a missing
# file, a directory, a file of garbage and out-of-range numbers, wherever it
# takes them (traces, images, backends, contracts, outputs, numeric and size
# options), and checks the exit status (cli.h: 1 the checked thing failed,
# 2 usage or unusable input) and that the message names the input or the
# option as the user typed it.  Also: sizes take K/M/G/T everywhere, what
# a command's help promises it accepts, and `info` prints UUIDs as traces
# write them.  Prints "N passed, N failed"
# last and exits non-zero when anything failed.  Run from the repository
# root.
set -u
B=${VDCC_BUILD:-build}
V=$B/vdcc
T=$(mktemp -d "${TMPDIR:-/tmp}/vdcc-badinput.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
    fail=$((fail + 1))
    echo "not ok - $1"
    if [ -n "${out:-}" ]; then sed 's/^/    | /' <<<"$out" | head -n 20; fi
}
# expect WANT_RC NEEDLE CMD...: exit status WANT_RC and NEEDLE (a fixed
# string) somewhere in stdout+stderr.
expect() {
    local want=$1 needle=$2
    shift 2
    out=$("$@" 2>&1)
    local rc=$?
    local name="${*#"$V" } -> $want"
    name=${name//"$T"/T}
    if [ "$rc" -ne "$want" ]; then bad "$name (exit $rc)"; return; fi
    if ! grep -qF -- "$needle" <<<"$out"; then bad "$name (no '${needle//"$T"/T}')"; return; fi
    ok "$name"
}

M=$T/missing.trace
D=$T/dir
G=$T/garbage
mkdir -p "$D"
printf 'garbage\001\002 \377 not a trace, image, plugin or contract\n' >"$G"
cp "$G" "$T/garbage.so"
ok_trace=corpus/conformance/overwrite.trace
noswp=(--no-crash --no-faults)

# --- trace inputs: conform replay record shrink diff coverage crashtest faults --
# Each input with what the message says of it.
declare -A says=([$M]="$M: cannot open: No such file or directory" [$D]="$D" [$G]="$G:1: expected")
for p in "$M" "$D" "$G"; do
    # Commands that take several traces read a directory for them.
    many=${says[$p]}
    [ "$p" = "$D" ] && many="$D: no traces found"
    [ "$p" = "$M" ] && many="$M: No such file or directory"
    expect 2 "$many" "$V" conform "${noswp[@]}" "$p"
    expect 2 "$many" "$V" replay "$p"
    expect 2 "$many" "$V" coverage "$p"
    expect 2 "${says[$p]}" "$V" record --script "$p" -o "$T/out.trace"
    expect 2 "${says[$p]}" "$V" shrink "$p"
    expect 2 "${says[$p]}" "$V" diff --backend ref --backend toy "$p"
    expect 2 "${says[$p]}" "$V" crashtest "$p"
    expect 2 "${says[$p]}" "$V" faults "$p"
done
# A bad trace among good ones: the good ones still run, the status says so.
expect 2 "$G" "$V" replay "$ok_trace" "$G"
expect 2 "$G" "$V" conform "${noswp[@]}" "$ok_trace" "$G"

# --- images: info check ------------------------------------------------------------
for cmd in info check; do
    expect 2 "$M" "$V" "$cmd" "$M"
    expect 2 "$D" "$V" "$cmd" "$D"
    # Garbage is an image that fails the check: status 1, named.
    expect 1 "$G" "$V" "$cmd" "$G"
done

# --- backends: every command that loads one ------------------------------------------
for so in "$T/missing.so" "$D" "$T/garbage.so"; do
    expect 2 "$so" "$V" lint --backend "$so"
    expect 2 "$so" "$V" conform --backend "$so" "${noswp[@]}" "$ok_trace"
    expect 2 "$so" "$V" replay --backend "$so" "$ok_trace"
    expect 2 "$so" "$V" record --backend "$so" --script "$ok_trace" -o "$T/out.trace"
    expect 2 "$so" "$V" crashtest --backend "$so" --ops 10
    expect 2 "$so" "$V" faults --backend "$so" --ops 10
    expect 2 "$so" "$V" bench --backend "$so" --quick
    expect 2 "$so" "$V" diff --backend ref --backend "$so" "$ok_trace"
done

# --- other files: contracts, outputs -------------------------------------------------
expect 2 "$M" "$V" coverage --contract "$M"
expect 2 "$D" "$V" coverage --contract "$D"
expect 2 "$G" "$V" coverage --contract "$G"
expect 2 "$D" "$V" gen --seed 1 --ops 20 -o "$D"
expect 2 "$T/no/such" "$V" gen --seed 1 --ops 20 -o "$T/no/such/x.trace"
expect 2 "$D" "$V" record --script "$ok_trace" -o "$D"
expect 2 "--junit $D" "$V" conform --junit "$D" "$ok_trace"
expect 2 "--report $G" "$V" conform --report "$G" "$ok_trace"

# --- numbers out of range name the option typed ----------------------------------------
expect 2 "--jobs: 257 is out of range" "$V" conform --jobs 257 "$ok_trace"
expect 2 "--timeout: " "$V" conform --timeout 0 "$ok_trace"
expect 2 "--mem-limit: " "$V" conform --mem-limit 99999999999 "$ok_trace"
expect 2 "--hostile: there is no case 99999" "$V" conform --hostile 99999
expect 2 "--context: 1001 is out of range" "$V" replay --context 1001 "$ok_trace"
expect 2 "--ops: 999999999 is out of range" "$V" gen --seed 1 --ops 999999999
expect 2 "--capacity: 2T is out of range (64K..1T)" "$V" gen --seed 1 --ops 20 --capacity 2T
expect 2 "--exhaustive: 99 is out of range" "$V" gen --exhaustive 99
expect 2 "--budget: " "$V" shrink --budget 0 "$ok_trace"
expect 2 "--timeout: " "$V" diff --backend ref --backend toy --timeout 0 "$ok_trace"
expect 2 "--ops: 0 is out of range" "$V" crashtest --ops 0
expect 2 "--capacity: 256G is out of range (512..128G)" "$V" crashtest --capacity 256G
expect 2 "--vsize: 2G is out of range" "$V" faults --vsize 2G
expect 2 "--capacity: 2T is out of range (512..1T)" "$V" faults --capacity 2T
expect 2 "--capacity: '8Q' is not a size" "$V" faults --capacity 8Q
expect 2 "--max-write: " "$V" crashtest --max-write 32M
expect 2 "--reps: 101 is out of range" "$V" bench --reps 101
expect 2 "--size: 65537 is out of range" "$V" bench --size 65537
expect 2 "--fault-mode: unknown mode 'bogus'" "$V" crashtest --fault-mode bogus
expect 2 "--modes: unknown mode 'bogus'" "$V" faults --modes bogus

# --- sizes take suffixes, and what the help promises works ------------------------------
expect 0 "violations: 0" "$V" faults --capacity 8G --ops 20 --max-points 3 --modes io
expect 0 "violations: 0" "$V" crashtest --capacity 1G --ops 20 --max-points 2
expect 0 "capacity 65536 bytes" "$V" crashtest --capacity 64K --vsize 1M --max-write 16K --ops 20 --max-points 2
if "$V" crashtest --help | grep -q 'for crashtest 128G'; then ok "crashtest --help states its 128G limit"; else bad "crashtest --help states its 128G limit"; fi

# --- one UUID format: the one traces use is the one info prints --------------------
u=00112233-4455-6677-8899-aabbccddeeff m=0a0b0c0d-1111-2222-3333-444455556666
printf 'vdcc-trace 1\ncreate c0 file=c0.cache size=1M uuid=%s -> OK\nset-mod-uuid c0 uuid=%s -> OK\nclose c0 -> OK\n' \
    "$u" "$m" >"$T/uuid.trace"
"$V" replay --scratch "$T/keep" "$T/uuid.trace" >/dev/null 2>&1
out=$("$V" info "$T"/keep/uuid.trace.*/c0.cache 2>&1)
if grep -q "^  uuid          $u\$" <<<"$out" && grep -q "^  modification  $m\$" <<<"$out"; then
    ok "info prints the UUIDs as the trace wrote them"
else bad "info prints the UUIDs as the trace wrote them"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
