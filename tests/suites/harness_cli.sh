#!/usr/bin/env bash
# tests/suites/harness_cli.sh - end-to-end tests of the vdcc program.
#
# Runs $VDCC_BUILD/vdcc (default build/) against the test backends
# $VDCC_BUILD/tb_*.so, the reference backend and the traces in
# corpus/conformance/ and harness/tests/traces/.  Checks: usage and strict
# number errors; the corpus passes on toy (plugin and :SYMBOL) and ref; a
# wrong expectation fails precisely; every broken backend is classified
# (CRASH with signal and call, TIMEOUT, leak, data, loop, probe, misuse) while
# the run goes on; the rerun command reproduces; conform's crash and fault
# sweeps and its hostile VCI images catch planted bugs the replay misses (a
# naive index, a read error served as a hit, a lax probe), isolated (a
# crash or hang in a sweep is that trace's CRASH/TIMEOUT), with rerun
# commands that reproduce; the crash sweep's FLUSH-2 warnings (a flush that
# leaves its index pending); hostile images judged many per child yet each
# alone (a crash, hang or leak on one image is that image's verdict, a
# process poisoned by one image costs the next nothing); record + replay round-trips
# (in-process and through the VirtualBox plugin); lint refuses a broken
# vtable; a plugin that crashes or hangs in VDPluginLoad is refused while
# vdcc lives on; check and info name the check in ref/ that refused a
# corrupt image; TAP and JUnit are well-formed.  Prints "N passed, N failed" last and
# exits non-zero when anything failed.  Run from the repository root.
#
# Time: the full default conform (corpus, sweeps, every hostile image) runs
# once, on ref; toy runs the corpus without sweeps and five traces with
# them; every other run that is not about the sweeps passes --no-crash
# --no-faults and a few traces or a --hostile range (the sweeps of the whole
# corpus cost a minute or more under the sanitizers).
set -u
B=${VDCC_BUILD:-build}
V=$B/vdcc
T=$(mktemp -d "${TMPDIR:-/tmp}/vdcc-suite.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
case "$B" in *asan*) asan=1 ;; *) asan=0 ;; esac
case "$B" in *asan* | *msan*) sanitized=1 ;; *) sanitized=0 ;; esac
ncorpus=$(ls corpus/conformance/*.trace | wc -l)
nhostile=$(ls corpus/hostile/*.vci | wc -l)
ndefault=$((ncorpus + nhostile))

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
    fail=$((fail + 1))
    echo "not ok - $1"
    if [ -n "${out:-}" ]; then sed 's/^/    | /' <<<"$out" | head -n 40; fi
}
# run CMD...: output (stdout+stderr) in $out, exit status in $rc.
run() { out=$("$@" 2>&1); rc=$?; }
# expect NAME RC PATTERN... : rc must match and each extended regex must occur in $out.
expect() {
    local name=$1 want=$2 p
    shift 2
    if [ "$rc" -ne "$want" ]; then bad "$name (exit $rc, wanted $want)"; return; fi
    for p in "$@"; do
        if ! grep -Eq -- "$p" <<<"$out"; then bad "$name (no /$p/)"; return; fi
    done
    ok "$name"
}
lastline() { tail -n 1 <<<"$out"; }

# --- usage ---------------------------------------------------------------
run "$V" --help
expect "vdcc --help lists the commands" 0 '^  conform ' '^  replay ' '^  record ' '^  lint ' 'PATH.so:SYMBOL'
run "$V"
expect "vdcc without a command is a usage error" 2 '^usage: vdcc'
run "$V" frobnicate
expect "unknown command" 2 "unknown command 'frobnicate'" "Try 'vdcc --help'"
run "$V" conform --frobnicate
expect "unknown option" 2 "vdcc conform: unknown option '--frobnicate'" "Try 'vdcc conform --help'"
run "$V" help conform
help_out=$out
run "$V" conform --help
if [ "$rc" -eq 0 ] && [ "$out" = "$help_out" ]; then ok "help CMD is CMD --help"; else bad "help CMD is CMD --help"; fi
run "$V" help frobnicate
expect "help of an unknown command" 2 "unknown command 'frobnicate'"
for cmd in conform replay record lint; do
    run "$V" "$cmd" --help
    expect "$cmd --help" 0 "^usage: vdcc $cmd"
done
if [ "$sanitized" -eq 1 ]; then
    run "$V" conform --help
    expect "conform --help says the memory limit is ignored under sanitizers" 0 'ignored: this vdcc is built with a sanitizer'
fi
for bad_arg in "--jobs 0" "--jobs 1x" "--jobs 99999999999999999999" "--jobs -1" "--timeout -1" \
    "--timeout 1.2345" "--timeout 0" "--timeout 2s" "--mem-limit abc" "--mem-limit 0x10"; do
    # shellcheck disable=SC2086
    run "$V" conform $bad_arg corpus/conformance
    expect "strict number: conform $bad_arg" 2 "vdcc conform: --"
done
run "$V" conform --timeout
expect "option without its value" 2 "option '--timeout' needs a value"
run "$V" replay
expect "replay without a trace" 2 "no TRACE given"
run "$V" conform "$T/empty-dir-that-does-not-exist"
expect "conform of a missing path" 2 "No such file or directory"
mkdir -p "$T/empty"
run "$V" conform "$T/empty"
expect "conform of a directory without traces" 2 "no traces found"

# --- the corpus passes on two different correct backends -----------------
run "$V" conform --backend "$B/tb_toy.so" --jobs 2 --no-crash --no-faults
expect "corpus passes on toy (plugin); its hostile point is skipped" 0 "^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped)?\$" \
    '^ok [0-9]+ - hostile # SKIP the backend is not VCI \(it is named toy\)'
run "$V" conform --backend "$B/tb_toy.so" --jobs 2 corpus/conformance/overwrite.trace corpus/conformance/reopen-rw.trace \
    corpus/conformance/create-fixed.trace corpus/conformance/gen-exhaustive-d3-wA.trace corpus/conformance/unaligned.trace
expect "traces pass on toy, sweeps included" 0 "^5 passed, 0 failed\$" \
    '^# sweeps: [1-9][0-9]* crash state\(s\) checked, [1-9][0-9]* fault point\(s\) run, over 5 trace\(s\)$'
run "$V" conform --backend "$B/tb_toy.so:tb_backend" --jobs 2 --no-crash --no-faults harness/tests/traces/classify
expect "toy loads as PATH.so:SYMBOL too" 0 "^2 passed, 0 failed\$" "backend .*tb_toy.so:tb_backend \(toy\)"
run "$V" conform --jobs 2
expect "corpus, sweeps and hostile images pass on ref (built-in default)" 0 "^$ndefault passed, 0 failed\$" \
    "backend ref \(vci\)" '^# sweeps: [1-9][0-9]* crash state\(s\) checked, [1-9][0-9]* fault point\(s\) run' \
    "^# hostile VCI images: $nhostile judged\$" '^ok [0-9]+ - hostile/001-valid-small$'
if grep -Eq '^# [0-9]+ quality warnings' <<<"$out"; then
    bad "ref has no quality warnings (FLUSH-2 included)"
else
    ok "ref has no quality warnings (FLUSH-2 included)"
fi
if grep -q '^ok [0-9]* - corpus/conformance/.* # no sweeps' <<<"$out"; then
    bad "every corpus trace converts to a sweep workload"
else
    ok "every corpus trace converts to a sweep workload"
fi
if [ -f "$B/VDPluginVciRef.so" ]; then
    # (the sweeps and the full hostile set ran above; here: that the plugin's
    # backend counts as VCI)
    run "$V" conform --backend "$B/VDPluginVciRef.so" --jobs 2 --no-crash --no-faults --hostile 1-40 \
        corpus/conformance/probe.trace corpus/conformance/overwrite.trace corpus/conformance/reopen-rw.trace
    expect "traces and hostile images pass on ref loaded as a plugin (a VCI backend by name)" 0 \
        "^43 passed, 0 failed\$" 'after each passing trace: nothing; hostile VCI images: one test point each'
else
    out="" bad "$B/VDPluginVciRef.so is built"
fi
for be in toy ref; do
    run "$V" replay --backend "$be" harness/tests/traces/handwritten.trace
    expect "hand-written trace passes on $be" 0 '^PASS harness/tests/traces/handwritten.trace' '^1 passed, 0 failed$'
done
run "$V" conform --backend "$B/tb_forget.so" --jobs 2 --no-crash --no-faults corpus/conformance
expect "a cache that forgets everything passes, with quality warnings" 0 "^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped)?\$" \
    '^# [0-9]+ quality warnings: corpus/conformance/' '^  outcome: PASS$' '^  warnings: [0-9]+$' 'should: hit'
if grep -q '^not ok' <<<"$out"; then bad "quality warnings are never failures"; else ok "quality warnings are never failures"; fi
run "$V" conform --backend toy harness/tests/traces/needs-discard.trace
expect "missing capability is a SKIP" 0 '^ok 1 - .*needs-discard.trace # SKIP backend does not declare VD_CAP_DISCARD' \
    '^0 passed, 0 failed, 1 skipped$'

# --- failures are explained ------------------------------------------------
run "$V" replay --backend toy harness/tests/traces/wrong-expectation.trace
expect "a wrong expectation fails precisely" 1 \
    '^call 2 \(line 7\): vdwrite c0 off=0 len=4K data=pattern:3 -> VERR_VD_IMAGE_READ_ONLY' \
    '^  expected: VERR_VD_IMAGE_READ_ONLY' '^  actual:   VINF_SUCCESS \(0\)' '^0 passed, 1 failed$'
run "$V" conform --backend toy harness/tests/traces/syntax-error.trace
expect "a bad trace is an ERROR with file:line, unusable input: exit 2" 2 '^not ok 1 ' '  outcome: ERROR' \
    'syntax-error.trace:3: unknown record \\"raed\\"'

# --- broken backends are classified, and the run goes on -----------------
classify() { # backend
    # (replay classification only: the sweeps are tested below)
    run "$V" conform --backend "$B/tb_$1.so" --no-crash --no-faults --timeout 2 --jobs 2 --junit "$T/$1.xml" \
        harness/tests/traces/classify
}
classify crash
expect "crash: CRASH with signal and call, next trace runs" 1 '^not ok 1 - .*1-io.trace' '  outcome: CRASH' \
    '  signal: SIGSEGV' '  call: 3$' '  line: 7$' '  record: "vdread c0 off=0 len=16K' '^ok 2 - .*2-probe.trace' \
    '^1 passed, 1 failed$'
crash_out=$out
classify hang
expect "hang: TIMEOUT at the write, next trace runs" 1 '  outcome: TIMEOUT' '  call: 2$' \
    'killed during call 2 of 4' '^ok 2 - ' '^1 passed, 1 failed$'
classify leak
if [ "$asan" -eq 1 ]; then
    expect "leak: LeakSanitizer report makes it FAIL" 1 '^not ok 1 - .*1-io.trace' '  outcome: FAIL' \
        'ERROR: LeakSanitizer: detected memory leaks' 'toy_alloc'
else
    expect "leak: invisible without LeakSanitizer (passes)" 0 '^2 passed, 0 failed$'
fi
classify wrongdata
expect "wrong data: FAIL with the offset" 1 '  outcome: FAIL' '  call: 3$' 'data differs at virtual offset 0x1000' \
    '^ok 2 - ' '^1 passed, 1 failed$'
wrongdata_out=$out
classify zerobytes
expect "zero-byte write: FAIL, VD would loop" 1 '  outcome: FAIL' '  call: 2$' 'VD would loop forever' \
    '^1 passed, 1 failed$'
classify probelies
expect "lying probe: FAIL on the probe" 1 '^ok 1 - ' '^not ok 2 - .*2-probe.trace' '  call: 2$' \
    'actual:   VERR_FILE_NOT_FOUND' '^1 passed, 1 failed$'
classify misuse
expect "host misuse: FAIL" 1 '  outcome: FAIL' '  misuse: 1$' 'NULL storage handle' '^1 passed, 1 failed$'

# The rerun command reproduces the failure alone.
rerun=$(sed -n 's/^  rerun: "\(.*\)"$/\1/p' <<<"$wrongdata_out" | head -n 1)
if [ -n "$rerun" ]; then
    run bash -c "$rerun"
    expect "the rerun command reproduces the failure" 1 'data differs at virtual offset 0x1000'
else
    out=$wrongdata_out bad "a failure prints its rerun command"
fi

# A printed rerun never crashes vdcc: replay runs the trace in a child, so a
# crashing backend is a CRASH with the signal and the record reached, and the
# next trace runs (issue 19).  --in-process keeps the old way for debuggers.
rerun=$(sed -n 's/^  rerun: "\(.*\)"$/\1/p' <<<"$crash_out" | head -n 1)
run bash -c "$rerun"
expect "conform's rerun of a crash reports CRASH; vdcc lives" 1 '^CRASH .*1-io.trace: SIGSEGV during call 3 of 4$' \
    '^  record \(line 7\): vdread c0 off=0 len=16K' '^0 passed, 1 failed$'
run "$V" replay --backend "$B/tb_crash.so" harness/tests/traces/classify/1-io.trace \
    harness/tests/traces/classify/2-probe.trace
expect "replay survives a crashing backend, the next trace runs" 1 '^CRASH .*1-io.trace: SIGSEGV during call 3 of 4$' \
    '^PASS .*2-probe.trace \(5 of 5 calls\)' '^1 passed, 1 failed$'
run "$V" shrink --backend "$B/tb_crash.so" -o "$T/crash.min" harness/tests/traces/classify/1-io.trace
rerun=$(sed -n 's/^rerun: //p' <<<"$out" | head -n 1)
if [ -n "$rerun" ]; then
    run bash -c "$rerun"
    expect "shrink's rerun of a crash reports CRASH; vdcc lives" 1 '^CRASH .*crash.min: SIGSEGV during call [0-9]+ of ' \
        '^  record \(line [0-9]+\): vdread ' '^0 passed, 1 failed$'
else
    bad "shrink on a crashing backend prints a rerun command"
fi
run "$V" replay --in-process --backend "$B/tb_crash.so" harness/tests/traces/classify/1-io.trace
if [ "$rc" -ne 0 ] && ! grep -q "passed, " <<<"$out"; then
    ok "replay --in-process runs the backend in vdcc itself (its crash ends vdcc, exit $rc)"
else
    bad "replay --in-process runs the backend in vdcc itself (exit $rc)"
fi

# An interrupted run kills its children and removes their directories.
mkdir -p "$T/tmp"
TMPDIR="$T/tmp" "$V" conform --backend "$B/tb_hang.so" --jobs 2 --timeout 31.5 corpus/conformance >"$T/int.out" 2>&1 &
cpid=$!
sleep 2
kill -TERM "$cpid"
wait "$cpid"
rc=$?
sleep 0.2
out="$(cat "$T/int.out")
left: $(ls "$T/tmp")
procs: $(pgrep -f -- '--timeout 31.5' || true)"
if [ "$rc" -eq 143 ] && [ -z "$(ls "$T/tmp")" ] && ! pgrep -f -- '--timeout 31.5' >/dev/null \
    && grep -q 'interrupted by SIGTERM' "$T/int.out"; then
    ok "SIGTERM stops conform: children killed, directories removed, exit 143"
else
    bad "SIGTERM stops conform: children killed, directories removed, exit 143 (exit $rc)"
fi

# --- TAP and JUnit are well-formed ---------------------------------------
tap_ok() { # text: plan first, one line per test in order, YAML blocks closed
    awk '
        NR == 1 { if ($0 != "TAP version 14") bad = "first line" }
        NR == 2 { if ($0 !~ /^1\.\.[0-9]+$/) bad = "plan"; else plan = substr($0, 4) + 0 }
        /^(not )?ok [0-9]+ - / { n++; split($0, w, " "); num = ($1 == "not") ? w[3] : w[2]; if (num != n) bad = "numbering" }
        /^  ---$/ { if (inblock) bad = "nested block"; inblock = 1; next }
        /^  \.\.\.$/ { if (!inblock) bad = "stray end"; inblock = 0; next }
        inblock && !/^  [a-z]+: / && !/^    / { bad = "yaml line: " $0 }
        END { if (inblock) bad = "open block"; if (n != plan) bad = "count " n " vs plan " plan; if (bad) { print bad; exit 1 } }
    ' <<<"$1"
}
for name in crash wrongdata; do
    text=$crash_out
    [ "$name" = wrongdata ] && text=$wrongdata_out
    if why=$(tap_ok "$text"); then ok "TAP of the $name run is well-formed"; else out="$why" bad "TAP of the $name run is well-formed"; fi
done
for name in crash hang wrongdata probelies; do
    x="$T/$name.xml"
    if [ ! -s "$x" ]; then out="" bad "JUnit file for $name written"; continue; fi
    if command -v xmllint >/dev/null 2>&1; then
        if out=$(xmllint --noout "$x" 2>&1); then ok "JUnit of $name parses (xmllint)"; else bad "JUnit of $name parses (xmllint)"; fi
    fi
    out=$(cat "$x")
    if [ "$(grep -c '<testcase ' "$x")" -eq 2 ] && grep -q 'tests="2" failures="1" errors="0" skipped="0"' "$x" \
        && [ "$(grep -c '<failure type=' "$x")" -eq 1 ] && grep -q '^<?xml version="1.0" encoding="UTF-8"?>$' "$x" \
        && [ "$(grep -c '</testcase>' "$x")" -eq 1 ] && tail -n 1 "$x" | grep -q '^</testsuites>$'; then
        ok "JUnit of $name has the expected structure"
    else
        bad "JUnit of $name has the expected structure"
    fi
done
if grep -q '<failure type="CRASH" message="SIGSEGV during call 3 of 4' "$T/crash.xml"; then
    ok "JUnit failure carries outcome and message"
else
    out=$(cat "$T/crash.xml") bad "JUnit failure carries outcome and message"
fi

# --- the sweeps and the hostile images catch what the replay cannot -------
naive="$B/rel/rel_naive.so"
run "$V" conform --backend "$naive:rel_naive_backend" --no-crash --no-faults corpus/conformance/overwrite.trace
expect "the naive index passes the replay alone" 0 '^1 passed, 0 failed$'
run "$V" conform --backend "$naive:rel_naive_backend" --junit "$T/naive.xml" corpus/conformance/overwrite.trace
expect "the crash sweep catches the naive index (CRASH-1)" 1 '^not ok 1 - corpus/conformance/overwrite.trace$' \
    '  outcome: FAIL' '  phase: "crash sweep"' '  clause: "CRASH-1"' 'crash sweep: [1-9][0-9]* violation\(s\) in ' \
    '  rerun: ".*vdcc crashtest --backend .*rel_naive.so:rel_naive_backend --max-points 10 --max-states-per-point 8 --allow-open-failure --no-deep-check corpus/conformance/overwrite.trace"' \
    '^0 passed, 1 failed$'
naive_out=$out
rerun=$(sed -n 's/^  rerun: "\(.*\)"$/\1/p' <<<"$naive_out" | head -n 1)
nviol=$(sed -n 's/.*crash sweep: \([0-9]*\) violation.*/\1/p' <<<"$naive_out" | head -n 1)
state=$(sed -n 's/.*crash sweep: .*; first: \(state [0-9]*: point [0-9]*\) .*/\1/p' <<<"$naive_out" | head -n 1)
run bash -c "$rerun"
expect "the crashtest rerun line reproduces the sweep's verdict" 1 "^violations: ${nviol:-none}\$" \
    "^first violation: ${state:-none} "
if grep -q '<failure type="FAIL" message="crash sweep: ' "$T/naive.xml" \
    && grep -q 'phase: crash sweep&#10;clause: CRASH-1&#10;' "$T/naive.xml"; then
    ok "JUnit carries the sweep's phase and clause"
else
    out=$(cat "$T/naive.xml") bad "JUnit carries the sweep's phase and clause"
fi
if why=$(tap_ok "$naive_out"); then ok "TAP of a sweep failure is well-formed"; else out="$why" bad "TAP of a sweep failure is well-formed"; fi
run "$V" conform --backend "$naive:rel_sloppy_backend" --no-crash corpus/conformance/overwrite.trace
expect "the fault sweep catches a read error served as a hit" 1 '  phase: "fault sweep"' '  clause: "READ-1"' \
    'fault sweep: [1-9][0-9]* violation\(s\) in [0-9]+ fault point\(s\); first: fault at ' \
    '  rerun: ".*vdcc faults --backend .*rel_sloppy_backend --max-points 4 --max-alloc-points 32 --no-deep-check corpus/conformance/overwrite.trace"'
rerun=$(sed -n 's/^  rerun: "\(.*\)"$/\1/p' <<<"$out" | head -n 1)
run bash -c "$rerun"
expect "the faults rerun line reproduces it" 1 '^violations: [1-9]'
run "$V" conform --backend "$B/tb_crash.so" --timeout 2 harness/tests/traces/classify
expect "a crash in a sweep is the trace's CRASH, naming the sweep; vdcc lives on" 1 '^not ok 2 - .*2-probe.trace' \
    '  outcome: CRASH' '  phase: "crash sweep"' 'SIG[A-Z]+ during the crash sweep \(the replay had passed\)' \
    'vdcc crashtest --backend' '^0 passed, 2 failed$'
run "$V" conform --backend "$B/tb_hang.so" --timeout 2 harness/tests/traces/classify/2-probe.trace
expect "a hang in a sweep is the trace's TIMEOUT" 1 '  outcome: TIMEOUT' '  phase: "crash sweep"' \
    'crash sweep: no progress for 2.000 s' '^0 passed, 1 failed$'
# FLUSH-2 (a SHOULD): a backend whose flush leaves its index pending passes
# CRASH-1 on this trace (no slot is reused) but loses, in a crash right
# after each flush, what that flush was to keep: quality warnings.
printf '%s\n' 'vdcc-trace 1' 'create c0 file=c0.cache size=1M -> OK' 'vdwrite c0 off=0 len=4K data=pattern:1 -> OK' \
    'flush c0 -> OK' 'vdwrite c0 off=64K len=4K data=pattern:2 -> OK' 'flush c0 -> OK' 'close c0 -> OK' >"$T/flush.trace"
run "$V" conform --backend "$naive:rel_lazy_backend" --no-faults "$T/flush.trace"
expect "the crash sweep warns about data a crash right after a flush loses (FLUSH-2), without failing" 0 \
    '^ok 1 - .*flush.trace$' '  outcome: PASS' '  warnings: 2$' \
    'warning: crash sweep: 2 of 2 flush point\(s\) lose data in a crash right after the flush' \
    'FLUSH-2: state [0-9]+: point [0-9]+ right after op 3 \(flush, ' \
    '\(vdcc crashtest --max-points 10 --max-states-per-point 8 --allow-open-failure --no-deep-check TRACE shows them\)' \
    '^# 2 quality warnings: .*flush.trace \(2\)$' '^1 passed, 0 failed$'
run "$V" crashtest --backend "$naive:rel_lazy_backend" --max-points 10 --max-states-per-point 8 \
    --allow-open-failure --no-deep-check "$T/flush.trace"
expect "vdcc crashtest shows the same FLUSH-2 losses, and exits 0 (a SHOULD)" 0 '^violations: 0$' \
    '^FLUSH-2: 2 flush point\(s\) checked, 2 lose data in a crash right after the flush' '^warning: FLUSH-2: state '
run "$V" conform --backend "$naive:rel_lazy_backend" --no-crash --no-faults "$T/flush.trace"
expect "... the same trace without the crash sweep: no warning" 0 '^ok 1 - [^#]*$' '^1 passed, 0 failed$'
printf 'vdcc-trace 1\nfile foreign.bin len=4K data=pattern:6\nprobe foreign.bin -> VERR_VD_GEN_INVALID_HEADER\n' >"$T/probe-only.trace"
run "$V" conform --backend toy "$T/probe-only.trace"
expect "a trace without an image is not swept, and says so" 0 \
    '^ok 1 - .*probe-only.trace # no sweeps: the workload converter cannot express it: ' \
    '1 trace\(s\) not swept \(see their notes\)' '^1 passed, 0 failed$'
run "$V" conform --backend toy --no-crash --no-faults "$T/probe-only.trace"
expect "--no-crash --no-faults: no sweeps" 0 'after each passing trace: nothing' '^ok 1 - [^#]*$'
lax="$B/rel/rel_vcilax.so"
run "$V" conform --backend "$lax" --jobs 2 --no-crash --no-faults --hostile 25-40 corpus/conformance/probe.trace \
    corpus/conformance/x-probe-interface.trace corpus/conformance/create-dynamic.trace
expect "hostile images catch a lax VCI probe the probing traces miss" 1 '^not ok [0-9]+ - hostile/031-version-0$' \
    '  phase: "hostile image"' '  clause: "PROBE-1"' 'probe returned 0 \(VINF_SUCCESS\), not VERR_VD_GEN_INVALID_HEADER' \
    'the same bytes: corpus/hostile/031-version-0.vci' '  rerun: ".*vdcc conform --backend .*rel_vcilax.so --hostile 31"'
lax_out=$out
if grep -q '^not ok [0-9]* - corpus/' <<<"$lax_out"; then out="" bad "... while every trace passes on it"; else ok "... while every trace passes on it"; fi
if why=$(tap_ok "$lax_out"); then ok "TAP of a hostile failure run is well-formed"; else out="$why" bad "TAP of a hostile failure run is well-formed"; fi
rerun=$(sed -n 's/^  rerun: "\(.*--hostile 31\)"$/\1/p' <<<"$lax_out" | head -n 1)
run bash -c "$rerun"
expect "the --hostile rerun line runs that case alone" 1 '^not ok 1 - hostile/031-version-0$' '^0 passed, 1 failed$'
run "$V" conform --hostile 1-3,7
expect "--hostile LIST runs those cases (no traces)" 0 '^1\.\.4$' '^ok 4 - hostile/007-valid-fixed$' '^4 passed, 0 failed$'
# Hostile images run many per child, yet each keeps the verdict it would
# get alone (harness/runner.h).  The trap backends (reliability/tests/
# vci_trap.c) spring on case 031 only, here the 7th of 16 in one child.
trap="$B/rel/rel_vcitrap"
run "$V" conform --backend "${trap}_crash.so" --hostile 25-40
expect "a crash on one image in a batch is that image's CRASH; the batch resumes after it" 1 \
    '^not ok 7 - hostile/031-version-0$' '  outcome: CRASH' '  signal: SIGSEGV' '^ok 6 - hostile/030-sig-ff$' \
    '^ok 8 - hostile/032-version-2$' '^ok 16 - hostile/040-' '^15 passed, 1 failed$'
crash_trap_out=$out
if grep -q 'hostile/031' <<<"$(grep '^not ok' <<<"$crash_trap_out")" \
    && [ "$(grep -c '^not ok' <<<"$crash_trap_out")" -eq 1 ]; then
    ok "... and no other image is blamed"
else
    out=$crash_trap_out bad "... and no other image is blamed"
fi
run "$V" conform --backend "${trap}_hang.so" --timeout 1 --hostile 25-40
expect "a hang on one image in a batch is that image's TIMEOUT; the batch resumes after it" 1 \
    '^not ok 7 - hostile/031-version-0$' '  outcome: TIMEOUT' 'hostile image: no verdict within 1.000 s' \
    '^ok 8 - hostile/032-version-2$' '^15 passed, 1 failed$'
run "$V" conform --backend "${trap}_leak.so" --hostile 25-40
if [ "$asan" -eq 1 ]; then
    expect "a leak on one image, found only at exit, is that image's FAIL (the batch reruns one per child)" 1 \
        '^not ok 7 - hostile/031-version-0$' 'ERROR: LeakSanitizer: detected memory leaks' \
        'sanitizer report at exit, after the hostile image finished' '^15 passed, 1 failed$'
else
    expect "a leak on one image: invisible without LeakSanitizer (all pass)" 0 '^16 passed, 0 failed$'
fi
run "$V" conform --backend "${trap}_poison.so" --hostile 25-40
expect "an image that poisons its process costs the next one nothing (rerun alone, passes, with a note)" 0 \
    '^ok 8 - hostile/032-version-2 # passes alone; after other tasks in one process: CRASH: SIGSEGV' \
    '^16 passed, 0 failed$'

run "$V" conform --backend toy --hostile all
expect "--hostile on a backend that is not VCI: one skipped point" 0 '^ok 1 - hostile # SKIP the backend is not VCI' \
    '^0 passed, 0 failed, 1 skipped$'
run "$V" conform corpus/conformance/probe.trace
expect "PATHs replace the default corpus: no hostile images" 0 'hostile VCI images: not in this run' '^1 passed, 0 failed$'
for bad_arg in "--hostile 0" "--hostile 3-1" "--hostile 1,x" "--hostile 999999" "--hostile 1 --no-hostile"; do
    # shellcheck disable=SC2086
    run "$V" conform $bad_arg
    expect "usage error: conform $bad_arg" 2 "vdcc conform: --hostile"
done

# --jobs changes nothing but the speed.
jobs_set="corpus/conformance/close-delete.trace corpus/conformance/create-dynamic.trace
    corpus/conformance/probe.trace corpus/conformance/overwrite.trace corpus/conformance/uuid-mod.trace"
# shellcheck disable=SC2086
run "$V" conform --backend "$B/tb_wrongdata.so" --jobs 1 --no-crash --no-faults $jobs_set
seq1=$(grep -E '^(not )?ok ' <<<"$out")
# shellcheck disable=SC2086
run "$V" conform --backend "$B/tb_wrongdata.so" --jobs 4 --no-crash --no-faults $jobs_set
seq4=$(grep -E '^(not )?ok ' <<<"$out")
if [ -n "$seq1" ] && [ "$seq1" = "$seq4" ] && grep -q '^not ok' <<<"$seq1"; then
    ok "--jobs 4 gives the same verdicts in the same order as --jobs 1"
else
    out="$seq1
---
$seq4" bad "--jobs 4 gives the same verdicts in the same order as --jobs 1"
fi

# --jobs defaults to the number of online CPUs.
ncpu=$(getconf _NPROCESSORS_ONLN)
run "$V" conform --backend toy --no-crash --no-faults corpus/conformance/probe.trace
expect "--jobs defaults to the online CPUs ($ncpu)" 0 ", $ncpu job\\(s\\)" '^1 passed, 0 failed$'
run "$V" conform --help
expect "--help says --fail-fast and the default --jobs" 0 '--fail-fast  ' "CPUs, here $ncpu;"

# --fail-fast: the first failure stops the run; a child still running is
# killed (the hang below would take 29.5 s), the rest never start; the TAP
# plan holds (the points left are skips "not run"), the counts are of what ran.
start=$(date +%s)
run "$V" conform --backend "$B/tb_hang.so" --fail-fast --jobs 2 --timeout 29.5 --no-crash --no-faults \
    corpus/conformance/close-delete.trace harness/tests/traces/syntax-error.trace corpus/conformance/probe.trace
took=$(( $(date +%s) - start ))
# (exit 2: the first failure is a trace that does not parse, unusable input)
expect "--fail-fast stops at the first failure, kills the running child" 2 '^1\.\.3$' \
    '^ok 1 - corpus/conformance/close-delete.trace # SKIP not run: --fail-fast' '^not ok 2 - .*syntax-error.trace' \
    '^ok 3 - corpus/conformance/probe.trace # SKIP not run' 'stopped early \(--fail-fast\): 2 of 3' \
    '^0 passed, 1 failed, 2 not run$'
if [ "$took" -lt 20 ] && ! pgrep -f -- '--timeout 29.5' >/dev/null; then
    ok "--fail-fast left no child running (${took} s)"
else
    bad "--fail-fast left no child running (${took} s)"
fi
run "$V" conform --backend "$B/tb_hang.so" --fail-fast --jobs 1 --timeout 1 --no-crash --no-faults corpus/conformance
expect "--fail-fast on a backend that hangs: one TIMEOUT, the rest not run" 1 '^not ok 1 - corpus/conformance/' \
    '  outcome: TIMEOUT' \
    "^0 passed, 1 failed, $((ncorpus - 1)) not run$"
# shellcheck disable=SC2086
run "$V" conform --backend "$B/tb_toy.so" --fail-fast --no-crash --no-faults $jobs_set
expect "--fail-fast changes nothing when nothing fails" 0 '^5 passed, 0 failed$'
if grep -q 'not run' <<<"$out"; then bad "--fail-fast without a failure runs everything"; fi

# The memory limit (only without sanitizers, whose shadow memory needs more).
if [ "$sanitized" -eq 0 ]; then
    printf 'vdcc-trace 1\ncreate c0 file=c0.cache size=1M -> OK\nvdwrite c0 off=0 len=64M data=pattern:1 -> OK\n' >"$T/big.trace"
    run "$V" conform --backend toy --mem-limit 40 "$T/big.trace"
    expect "--mem-limit 40 stops a 64 MiB transfer" 1 'VERR_NO_MEMORY' '^0 passed, 1 failed$'
    run "$V" conform --backend toy --mem-limit 0 "$T/big.trace"
    expect "--mem-limit 0 lifts the limit" 0 '^1 passed, 0 failed$'
fi

# --- lint and loading ------------------------------------------------------
run "$V" lint --backend "$B/tb_badvtable.so"
expect "lint flags a broken vtable" 1 '^error: u32VersionEnd 0xff030011 differs from u32Version 0xff030010' \
    '^error: pfnRead is NULL' '2 error\(s\)'
run "$V" conform --backend "$B/tb_badvtable.so" corpus/conformance
expect "conform refuses a backend with lint errors" 1 'fails lint with 2 error\(s\); refusing to run it' \
    '^error: pfnRead is NULL'
run "$V" replay --backend "$B/tb_badvtable.so" harness/tests/traces/handwritten.trace
expect "replay refuses a backend with lint errors" 1 'refusing to run it'
run "$V" lint --backend toy
expect "lint passes toy" 0 '^lint toy: 0 error\(s\), 0 warning\(s\)$'
run "$V" lint --backend "$B/tb_nosuch.so"
expect "missing plugin: clear error" 2 "cannot load '.*tb_nosuch.so': .*No such file"
run "$V" lint --backend "$B/tb_multi.so"
expect "several backends need --name" 2 'registered 2 cache backends; choose one with --name: toy toy-alt'
run "$V" conform --backend "$B/tb_multi.so" --name TOY-ALT --no-crash --no-faults harness/tests/traces/classify
expect "--name picks a backend, case-insensitively" 0 '\(toy-alt\)' '^2 passed, 0 failed$'
run "$V" lint --backend "$B/tb_loadfail.so"
expect "a failing VDPluginLoad: clear error" 2 'VDPluginLoad failed with VERR_NOT_SUPPORTED'
run "$V" lint --backend "$B/tb_noentry.so"
expect "no VDPluginLoad: clear error" 2 "not a VirtualBox plugin: no 'VDPluginLoad' entry point"
run "$V" lint --backend "$B/tb_toy.so:missing_symbol"
expect "missing symbol: clear error" 2 "no symbol 'missing_symbol'"
# A plugin that crashes or hangs while loading is refused; vdcc survives
# (exit 2 with a message, not death by a signal or a timeout of the suite).
if [ "$sanitized" -eq 1 ]; then crash_why='crashed while loading \(.*Sanitizer: SEGV'; else crash_why='crashed while loading \(SIGSEGV\)'; fi
for cmd in lint conform; do
    traces=()
    [ "$cmd" = conform ] && traces=(harness/tests/traces/classify)
    run "$V" "$cmd" --backend "$B/tb_loadcrash.so" "${traces[@]}"
    expect "$cmd: a VDPluginLoad that crashes is refused, vdcc survives" 2 "tb_loadcrash.so: the plugin $crash_why"
    start=$(date +%s)
    run env VDCC_LOAD_TIMEOUT=2 timeout 30 "$V" "$cmd" --backend "$B/tb_loadhang.so" "${traces[@]}"
    took=$(($(date +%s) - start))
    expect "$cmd: a VDPluginLoad that hangs is killed after VDCC_LOAD_TIMEOUT=2, vdcc survives" 2 \
        'tb_loadhang.so: the plugin hung while loading \(killed after 2 s\)'
    if [ "$took" -le 10 ]; then ok "$cmd: the hang costs about the timeout (${took} s)"; else out="" bad "$cmd: the hang costs about the timeout (${took} s)"; fi
done
run "$V" lint --backend "$B/tb_loadcrash.so:tb_backend"
expect "a crash-on-load plugin's vtable by :SYMBOL loads (no entry point called)" 0 '0 error\(s\)'
if pgrep -f -- "$B/tb_loadhang.so" >/dev/null; then out=$(pgrep -af -- "$B/tb_loadhang.so") bad "no hung trial child is left"; else ok "no hung trial child is left"; fi
for bad_t in 0 abc 2s 99999999999999999999; do
    run env VDCC_LOAD_TIMEOUT=$bad_t "$V" lint --backend "$B/tb_toy.so"
    expect "VDCC_LOAD_TIMEOUT=$bad_t is refused" 2 "VDCC_LOAD_TIMEOUT='$bad_t': wanted whole seconds"
done
run env VDCC_LOAD_TIMEOUT=5 "$V" lint --backend "$B/tb_toy.so"
expect "VDCC_LOAD_TIMEOUT=5 is accepted" 0 '0 error\(s\)'

run "$V" lint --backend frobnicate
expect "unknown built-in: clear error" 2 "'frobnicate' is not a built-in backend \(built-ins: ref toy\)"

# --- record, then replay identically ---------------------------------------
# (One plugin recording covers a whole vdcc run; the two traces use different
# file names, so the recording replays in one scratch directory.)
for be in "$B/tb_toy.so" ref; do
    for tr in reopen-rw unaligned probe; do
        run "$V" record --backend "$be" --script "corpus/conformance/$tr.trace" -o "$T/rec.trace"
        expect "record $tr on $(basename "$be")" 0 'recorded [0-9]+ record\(s\).*script PASS'
        run "$V" replay --strict --backend "$be" "$T/rec.trace"
        expect "recorded $tr replays strictly on $(basename "$be")" 0 '^1 passed, 0 failed$'
    done
done
run "$V" record --backend toy --script harness/tests/traces/wrong-expectation.trace -o "$T/rec.trace"
expect "record of a failing script still writes the calls" 1 'script FAIL'
run grep -c '^vdcc-trace 1$' "$T/rec.trace"
expect "... as a trace" 0 '^1$'
run "$V" record --backend toy --script corpus/conformance/probe.trace
expect "record without -o is a usage error" 2 'are required'
for inner in "$B/tb_toy.so" "$B/VDPluginVciRef.so"; do
    [ -f "$inner" ] || continue
    rm -f "$T"/plugin.* # a recording never appends to (or replaces) a trace
    run env VDCC_RECORD_PLUGIN="$inner" VDCC_RECORD_OUT="$T/plugin.trace" \
        "$V" replay --backend "$B/VDPluginVdccRecord.so" corpus/conformance/probe.trace corpus/conformance/two-images.trace
    expect "recording plugin around $(basename "$inner") is transparent" 0 '^2 passed, 0 failed$'
    run "$V" replay --strict --backend "$inner" "$T/plugin.trace"
    expect "plugin recording replays strictly on $(basename "$inner")" 0 '^1 passed, 0 failed$'
done
run env -u VDCC_RECORD_PLUGIN "$V" lint --backend "$B/VDPluginVdccRecord.so"
expect "recording plugin without its environment: clear error" 2 'set VDCC_RECORD_PLUGIN and VDCC_RECORD_OUT'

# --- info and check (ref/vci_check.h) ---------------------------------------
run "$V" replay --backend ref --scratch "$T/img" corpus/conformance/create-dynamic.trace
img=$(ls "$T"/img/*/c0.cache 2>/dev/null | head -n 1)
if [ -n "$img" ]; then
    run "$V" check "$img"
    expect "check: a reference image is valid" 0 'c0.cache: valid: '
    run "$V" info "$img"
    expect "info describes it" 0 "^VCI image '.*c0.cache'" 'capacity +8192 blocks \(4194304 bytes\)' 'dynamic'
    head -c 3000 "$img" >"$T/short.vci"
    run "$V" check "$T/short.vci"
    expect "check: a truncated image is not valid" 1 'short.vci: (corrupt|not a VCI image): '
    printf 'definitely not a cache\n' >"$T/text.vci"
    run "$V" check "$img" "$T/text.vci"
    expect "check: a foreign file is not VCI (and the worst verdict wins)" 1 'c0.cache: valid' 'text.vci: not a VCI image: '
    run "$V" check "$T/missing.vci"
    expect "check: an unreadable image is an I/O error" 2 'cannot read it \(VERR_FILE_NOT_FOUND\)'
else
    out="" bad "replay --scratch keeps the image for check"
fi
run "$V" check
expect "check without an image" 2 'no IMAGE given'
# A refused image names the check in ref/ that refused it (ref/vci_corrupt.h).
h=corpus/hostile/185-bm-magic-zero.vci
run "$V" check "$h"
expect "check: a hostile image names the check that refused it" 1 \
    '185-bm-magic-zero.vci: corrupt: block map: magic 0 is not' '^  corrupt: ref/vci_format\.c:[0-9]+ block map magic$'
run "$V" info "$h"
expect "info: a hostile image names the check that refused it" 1 '^  corrupt: ref/vci_format\.c:[0-9]+ block map magic$'
run "$V" check corpus/hostile/*.vci
nrefused=$(grep -c '^corpus/hostile/.*: corrupt: ' <<<"$out")
nnamed=$(grep -Ec '^  corrupt: ref/vci_[a-z]+\.c:[1-9][0-9]* [^ ]' <<<"$out")
nstray=$(awk '/^  corrupt: /{ if (prev !~ /: corrupt: /) n++ } { prev = $0 } END { print n + 0 }' <<<"$out")
if [ "$rc" -eq 1 ] && [ "$nrefused" -gt 100 ] && [ "$nnamed" -eq "$nrefused" ] && [ "$nstray" -eq 0 ]; then
    ok "check: each of the $nrefused corrupt hostile images names a check in ref/, no other verdict does"
else
    out="$nrefused refused, $nnamed named, $nstray under another verdict" \
        bad "check: each corrupt hostile image names a check in ref/ (exit $rc)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
