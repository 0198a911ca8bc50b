#!/usr/bin/env bash
# tests/suites/fuzz_campaign.sh - fuzz/campaign.sh as a backend author uses
# it: `--backend-lib ARCHIVE --symbol NAME` on a backend that is not VCI.
#
# The harness's toy backend (harness/tests/backends/toy.c) is compiled into
# an archive with the flags fuzz/README.md asks of an author, then:
#   - a 12-second campaign over it (one job) builds fuzz_probe, fuzz_open,
#     fuzz_ops and fuzz_model against the archive, exits 0, prints a row with
#     executions for each and keeps a merged corpus for each;
#   - the lying toy (TB_DEFECT_WRONGDATA: an odd block's hit serves the next
#     slot's bytes) in a 6-second fuzz_model campaign exits 1 with a finding
#     in findings/fuzz_model whose .repro command reproduces READ-1;
#   - the plan of CI's 2m campaign (--dry-run) runs every target from its
#     seeds and from nothing and fills about two minutes;
#   - a budget without a unit is refused with exit status 2 and a message.
# The campaign builds its own libFuzzer binaries, so the suite runs once,
# for the ASan variant; other variants report 0 tests.
set -u
b=${VDCC_BUILD:?VDCC_BUILD must name a build directory, e.g. build/asan}
cd "$(dirname "$0")/../.." || exit 2
case $b in
*asan) ;;
*)
    echo "fuzz_campaign runs with the ASan variant only"
    echo "0 passed, 0 failed"
    exit 0
    ;;
esac
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
        [ -f "$3" ] && tail -n 30 "$3" | sed 's/^/    | /'
    fi
}

flags="-std=c11 -D_GNU_SOURCE -I. -O1 -g -fsanitize=fuzzer-no-link,address,undefined"
# archive NAME [DEFINE]: the toy compiled and archived as an author would.
archive() {
    # shellcheck disable=SC2086
    clang $flags ${2:+-D$2} -c harness/tests/backends/toy.c -o "$tmp/$1.o" &&
        ar crs "$tmp/lib$1.a" "$tmp/$1.o"
}
archive toy >"$tmp/ar.log" 2>&1 && archive lying TB_DEFECT_WRONGDATA >>"$tmp/ar.log" 2>&1
check "the toy backend compiles into archives" $? "$tmp/ar.log"

nice fuzz/campaign.sh --backend-lib "$tmp/libtoy.a" --symbol vdcc_toy_backend --out "$tmp/ok" -j 1 \
    --progress 5 12s >"$tmp/ok.log" 2>&1
rc=$?
check "a campaign over the correct toy exits 0 and says clean" \
    "$([ $rc -eq 0 ] && grep -q '^campaign: clean$' "$tmp/ok.log"; echo $?)" "$tmp/ok.log"
for t in fuzz_probe fuzz_open fuzz_ops fuzz_model; do
    # target asan runs cpu-s execs exec/s ...: some executions, a kept corpus.
    row=$(grep -E "^$t +asan " "$tmp/ok.log")
    execs=$(awk '{print $5}' <<<"$row")
    n=$(find "$tmp/ok/corpus/$t" -type f 2>/dev/null | wc -l)
    check "$t: built against the archive, ran (${execs:-no} executions), kept $n inputs" \
        "$([ "${execs:-0}" -gt 0 ] && [ "$n" -gt 0 ] && [ -x "$tmp/ok/bin/$t" ]; echo $?)" "$tmp/ok.log"
done
grep -q 'progress\|runs done' "$tmp/ok.log"
check "the campaign printed progress lines" $? "$tmp/ok.log"

# The same --out: the host objects are reused, the corpus of the correct toy
# is the lying one's start, and the last campaign's findings move aside.
nice fuzz/campaign.sh --backend-lib "$tmp/liblying.a" --symbol vdcc_toy_backend --out "$tmp/ok" -j 1 \
    --targets fuzz_model 6s >"$tmp/lying.log" 2>&1
rc=$?
f=$(find "$tmp/ok/findings/fuzz_model" -name 'crash-*' ! -name '*.repro' 2>/dev/null | head -n 1)
check "a campaign over the lying toy exits 1 with a crash in findings/fuzz_model" \
    "$([ $rc -eq 1 ] && [ -n "$f" ] && [ -f "$f.repro" ]; echo $?)" "$tmp/lying.log"
if [ -n "$f" ]; then
    cmd=$(grep -v '^#' "$f.repro" | head -n 1)
    # Through sh, so the shell's "Aborted" notice stays out of the log.
    sh -c "$cmd" >"$tmp/repro.log" 2>&1
    rc=$?
    check "its .repro command reproduces the READ-1 violation" \
        "$([ $rc -ne 0 ] && grep -q 'contract violation \[READ-1\]' "$tmp/repro.log"; echo $?)" "$tmp/repro.log"
else
    check "its .repro command reproduces the READ-1 violation" 1 "$tmp/lying.log"
fi

# The plan of CI's `2m` on two jobs: every target from its seeds and from
# nothing under ASan, MSan and AFL++ (where installed) runs, about two
# minutes of wall time (the slices plus 3 s of start-up a run, two jobs).
afl=0
command -v afl-fuzz >/dev/null 2>&1 && afl=1
fuzz/campaign.sh --dry-run -j 2 2m >"$tmp/plan.log" 2>&1
rc=$?
bad=$(awk -v rc=$rc -v afl=$afl '
    { n++; cpu += $4 + 3; runs[$1 " " $2 " " $3] = 1; eng[$1] = 1 }
    END {
        split("fuzz_probe fuzz_open fuzz_open_sa fuzz_ops fuzz_ops_sa fuzz_model fuzz_trace", t, " ")
        for (i in t) for (s = 0; s < 2; s++)
            if (!(("asan " t[i] " " (s ? "seeds" : "empty")) in runs)) print "no asan " t[i] (s ? " seeds" : " empty")
        if (!("msan" in eng) || (afl && !("afl" in eng))) print "no msan or afl run"
        if (rc != 0 || cpu / 2 < 100 || cpu / 2 > 130) print "exit " rc ", " cpu / 2 " s of wall time planned"
    }' "$tmp/plan.log")
[ -z "$bad" ]
check "the 2m plan covers every target from seeds and from nothing in about 120 s${bad:+ ($bad)}" $? "$tmp/plan.log"

fuzz/campaign.sh --no-build 10 >"$tmp/usage.log" 2>&1
rc=$?
check "a budget without a unit exits 2 with a message" \
    "$([ $rc -eq 2 ] && grep -q 'BUDGET must be a number with a unit' "$tmp/usage.log"; echo $?)" "$tmp/usage.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
