#!/usr/bin/env bash
# tests/suites/ci_output.sh - what CI systems read from `vdcc conform`.
#
# Runs $VDCC_BUILD/vdcc (default build/) on the test backends and checks:
#   - `prove` (Test::Harness, /usr/bin/prove) reads `--tap 13` of a passing
#     and of a failing run to the end, with the verdict and the counts vdcc
#     itself reports (the failing run has multi-line diagnostics);
#   - the JUnit file validates against tests/junit.xsd (xmllint) in every
#     way a run can end: pass, failures, quality warnings (named by clause
#     in system-out), a trace that does not parse, a backend lint refuses,
#     a backend that does not load, a missing path, no traces; and --junit
#     is checked before anything runs;
#   - --report DIR writes a self-contained HTML page and JSON that parses
#     (perl's core JSON::PP) and agrees with the TAP.
# prove and xmllint are required (README's apt-get line installs
# libxml2-utils; prove comes with perl).  Prints "N passed, N failed" last
# and exits non-zero when anything failed.  Run from the repository root.
set -u
B=${VDCC_BUILD:-build}
V=$B/vdcc
XSD=tests/junit.xsd
T=$(mktemp -d "${TMPDIR:-/tmp}/vdcc-ci.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
    fail=$((fail + 1))
    echo "not ok - $1"
    if [ -n "${out:-}" ]; then sed 's/^/    | /' <<<"$out" | head -n 30; fi
}
# run CMD...: stdout in $out, stderr in $err, exit status in $rc.
run() { out=$("$@" 2>"$T/stderr"); rc=$?; err=$(cat "$T/stderr"); }
has() { grep -Eq -- "$1" <<<"$2"; }

for tool in prove xmllint perl; do
    if ! command -v "$tool" >/dev/null; then
        bad "$tool is installed (this suite needs it)"
        echo "$pass passed, $fail failed"
        exit 1
    fi
done

# junit NAME FILE PATTERN...: FILE validates against the schema and holds
# every extended regex.
junit() {
    local name=$1 file=$2 p v
    shift 2
    if ! v=$(xmllint --noout --schema "$XSD" "$file" 2>&1); then
        out=$v bad "$name: JUnit validates"
        return
    fi
    for p in "$@"; do
        if ! grep -Eq -- "$p" "$file"; then out=$(head -c 3000 "$file") bad "$name: JUnit has /$p/"; return; fi
    done
    ok "$name: JUnit validates"
}

# prove_counts NAME TAPFILE WANT_RESULT TESTS FAILED: prove reads all of it.
prove_counts() {
    local name=$1 file=$2 want=$3 tests=$4 failed=$5 p
    p=$(prove -e cat "$file" 2>&1)
    if ! has "^Result: $want\$" "$p" || ! has "Files=1, Tests=$tests," "$p" || has "Bad plan|Parse errors" "$p"; then
        out=$p bad "$name: prove reads $tests tests, $want"
        return
    fi
    if [ "$failed" -gt 0 ] && ! has "\\(Wstat: [0-9]+ Tests: $tests Failed: $failed\\)" "$p"; then
        out=$p bad "$name: prove counts $failed failed"
        return
    fi
    ok "$name: prove reads $tests tests, $failed failed, $want"
}

few="corpus/conformance/overwrite.trace corpus/conformance/reopen-rw.trace corpus/conformance/create-fixed.trace
     corpus/conformance/unaligned.trace corpus/conformance/x-eviction-order.trace harness/tests/traces/needs-discard.trace"

# --- TAP 13 through prove ------------------------------------------------------
# shellcheck disable=SC2086
run "$V" conform --tap 13 --backend toy --no-crash --no-faults $few
printf '%s\n' "$out" >"$T/pass.tap"
if [ "$rc" -eq 0 ] && has '^TAP version 13$' "$out" && has '^# 5 passed, 0 failed, 1 skipped$' "$out"; then
    ok "--tap 13: version 13, the closing counts as a comment"
else bad "--tap 13: version 13, the closing counts as a comment (exit $rc)"; fi
prove_counts "passing run" "$T/pass.tap" PASS 6 0

# shellcheck disable=SC2086
run "$V" conform --tap 13 --backend "$B/tb_wrongdata.so" --no-crash --no-faults --junit "$T/fail.xml" $few
printf '%s\n' "$out" >"$T/fail.tap"
if [ "$rc" -eq 1 ] && has '^# 1 passed, 4 failed, 1 skipped$' "$out" && ! has '\|-$' "$out" &&
    has '^  message: ".*data differs.*\\n' "$out"; then
    ok "--tap 13 on failures: quoted one-line YAMLish, no block scalars"
else bad "--tap 13 on failures: quoted one-line YAMLish (exit $rc)"; fi
prove_counts "failing run" "$T/fail.tap" FAIL 6 4
junit "failing run" "$T/fail.xml" 'tests="6" failures="4" errors="0" skipped="1"' '<failure type="FAIL"' \
    '<property name="backend.name" value="toy"/>' '<property name="backend.capabilities" value="UUID CREATE_FIXED'
# The default stays TAP 14, with its block scalars.
# shellcheck disable=SC2086
run "$V" conform --backend "$B/tb_wrongdata.so" --no-crash --no-faults $few
if has '^TAP version 14$' "$out" && has '^  message: \|-$' "$out" && has '^1 passed, 4 failed, 1 skipped$' "$out"; then
    ok "TAP 14 stays the default"
else bad "TAP 14 stays the default"; fi
run "$V" conform --tap 12 corpus/conformance/overwrite.trace
if [ "$rc" -eq 2 ] && has "--tap: 12 is out of range \\(13..14\\)" "$err"; then ok "--tap 12 is refused"; else bad "--tap 12 is refused (exit $rc)"; fi

# --- JUnit in every way a run ends -----------------------------------------------
run "$V" conform --backend toy --no-crash --no-faults --junit "$T/ok.xml" corpus/conformance/overwrite.trace
[ "$rc" -eq 0 ] || bad "passing run exits 0 (exit $rc)"
junit "passing run" "$T/ok.xml" 'tests="1" failures="0" errors="0"'

run "$V" conform --tap 13 --backend "$B/tb_forget.so" --no-crash --no-faults --junit "$T/warn.xml" \
    corpus/conformance/x-eviction-order.trace
if [ "$rc" -eq 0 ] && has '^  clauses: "READ-7"$' "$out"; then ok "quality warnings name their clause in TAP"; else bad "quality warnings name their clause in TAP (exit $rc)"; fi
junit "quality warnings" "$T/warn.xml" '<system-out>quality warnings: [1-9][0-9]* \(clauses: READ-7\)' \
    'warning: READ-7: call [0-9]+ \(line [0-9]+\): should: hit'

run "$V" conform --tap 13 --backend toy --no-crash --no-faults --junit "$T/parse.xml" \
    harness/tests/traces/syntax-error.trace corpus/conformance/overwrite.trace
if [ "$rc" -eq 2 ] && has '^not ok 1 - ' "$out" && has '^ok 2 - ' "$out" && has 'could not be read or parsed' "$err"; then
    ok "a trace that does not parse: the others run, exit 2"
else bad "a trace that does not parse: the others run, exit 2 (exit $rc)"; fi
prove_counts "parse error" <(printf '%s\n' "$out") FAIL 2 1
junit "parse error" "$T/parse.xml" '<error type="ERROR" message="[^"]*syntax-error.trace:3: unknown record'

run "$V" conform --tap 13 --backend "$B/tb_badvtable.so" --junit "$T/lint.xml" corpus/conformance/overwrite.trace
if [ "$rc" -eq 1 ] && has '^not ok 1 - backend .*tb_badvtable.so$' "$out" && has '^# 0 passed, 1 failed$' "$out"; then
    ok "lint refusal: TAP says so, exit 1"
else bad "lint refusal: TAP says so, exit 1 (exit $rc)"; fi
junit "lint refusal" "$T/lint.xml" 'tests="1" failures="0" errors="1"' 'fails lint with [0-9]+ error' 'error: '

for so in "$T/missing.so" "$B/tb_loadfail.so"; do
    run "$V" conform --backend "$so" --junit "$T/load.xml" corpus/conformance/overwrite.trace
    if [ "$rc" -eq 2 ] && has "^not ok 1 - backend $so\$" "$out"; then
        ok "load failure ($(basename "$so")): TAP says so, exit 2"
    else bad "load failure ($(basename "$so")): TAP says so, exit 2 (exit $rc)"; fi
    junit "load failure ($(basename "$so"))" "$T/load.xml" '<error type="ERROR" message="'
done

run "$V" conform --backend toy --junit "$T/nopath.xml" "$T/no-such.trace"
if [ "$rc" -eq 2 ] && has "no-such.trace: No such file or directory" "$err"; then ok "missing path: exit 2, named"; else bad "missing path: exit 2, named (exit $rc)"; fi
junit "missing path" "$T/nopath.xml" 'no-such.trace: No such file or directory'
mkdir -p "$T/empty"
run "$V" conform --backend toy --junit "$T/none.xml" "$T/empty"
[ "$rc" -eq 2 ] || bad "no traces: exit 2 (exit $rc)"
junit "no traces" "$T/none.xml" 'no traces found'

run "$V" conform --backend toy --junit "$T/no-such-dir/j.xml" corpus/conformance/overwrite.trace
if [ "$rc" -eq 2 ] && [ -z "$out" ] && has "--junit $T/no-such-dir/j.xml: cannot write it" "$err"; then
    ok "an unwritable --junit stops the run before it starts"
else bad "an unwritable --junit stops the run before it starts (exit $rc)"; fi
run "$V" conform --backend toy --junit "$T" corpus/conformance/overwrite.trace
if [ "$rc" -eq 2 ] && [ -z "$out" ]; then ok "--junit naming a directory is refused first"; else bad "--junit naming a directory (exit $rc)"; fi

# --- --report DIR ----------------------------------------------------------------
# shellcheck disable=SC2086
run "$V" conform --backend "$B/tb_forget.so" --no-crash --no-faults --report "$T/rep" $few
tap=$out
if [ "$rc" -eq 0 ] && [ -s "$T/rep/index.html" ] && [ -s "$T/rep/report.json" ] &&
    grep -q '^<!DOCTYPE html>' "$T/rep/index.html" && ! grep -qi '<script' "$T/rep/index.html" &&
    grep -q '<td>READ-7</td><td>warn</td>' "$T/rep/index.html"; then
    ok "--report writes a self-contained page"
else out=$(head -c 2000 "$T/rep/index.html" 2>&1) bad "--report writes a self-contained page (exit $rc)"; fi
# The JSON parses and says what the TAP says.
j=$(perl -MJSON::PP -e '
    local $/; open my $f, "<", $ARGV[0] or die; my $r = JSON::PP->new->decode(<$f>);
    my %v = map { $_->{clause} => $_->{verdict} } @{$r->{clauses}};
    my ($w) = grep { $_->{clause} eq "READ-7" } @{$r->{warnings_by_clause}};
    printf "name=%s passed=%d failed=%d skipped=%d traces=%d hostile=%d read7=%s wpoints=%s date=%s version=%s caps=%s\n",
        $r->{backend}{name}, $r->{summary}{passed}, $r->{summary}{failed}, $r->{summary}{skipped},
        scalar @{$r->{traces}}, scalar @{$r->{hostile}}, $v{"READ-7"} // "none",
        $w ? join(",", @{$w->{points}}) : "none", $r->{date}, $r->{vdcc_version} ne "" ? "yes" : "no",
        join(" ", @{$r->{backend}{capabilities}});' "$T/rep/report.json" 2>&1)
p=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/passed=\1 failed=\2 skipped=\3/p' <<<"$tap")
if [ -n "$p" ] && has "^name=toy $p traces=6 hostile=0 read7=warn wpoints=corpus/conformance/x-eviction-order.trace date=20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z version=yes caps=UUID CREATE_FIXED" "$j"; then
    ok "--report's JSON parses and agrees with the TAP ($p)"
else out="$j / $p" bad "--report's JSON parses and agrees with the TAP"; fi
# Hostile images get their own list (ref is VCI).
run "$V" conform --no-crash --no-faults --hostile 1-3 --report "$T/rep2" corpus/conformance/overwrite.trace
j=$(perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $r = JSON::PP->new->decode(<$f>);
    printf "%d %d %s\n", scalar @{$r->{traces}}, scalar @{$r->{hostile}}, $r->{hostile}[0]{name}' "$T/rep2/report.json" 2>&1)
if [ "$rc" -eq 0 ] && [ "$j" = "1 3 hostile/001-valid-small" ] && grep -q '<h2>Hostile images (3)</h2>' "$T/rep2/index.html"; then
    ok "--report lists the hostile images apart"
else out=$j bad "--report lists the hostile images apart (exit $rc)"; fi
run "$V" conform --backend toy --report "$T/ok.xml" corpus/conformance/overwrite.trace
if [ "$rc" -eq 2 ] && [ -z "$out" ] && has "--report $T/ok.xml: not a directory" "$err"; then
    ok "--report on a file is refused before the run"
else bad "--report on a file is refused before the run (exit $rc)"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
