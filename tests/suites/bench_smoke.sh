#!/usr/bin/env bash
# tests/suites/bench_smoke.sh - end-to-end smoke test of `vdcc bench`
# ($VDCC_BUILD/vdcc bench, default build/) and of ref's own benchmark
# ($VDCC_BUILD/bench_ref).  Checks that the command exits 0 and prints every
# workload with numeric figures, in JSON and as a table (bench_ref: both of
# its parts, with figures); that images kept in --dir are reused; that a backend crashing in some
# workloads fails those (exit 1) while the others still run; and usage
# errors.  No figure is compared with anything: timings belong to the
# machine.  Sanitizer builds use smaller sizes to stay well within a minute.
# Prints "N passed, N failed" last; exits non-zero when anything failed.
# Run from the repository root.
set -u
B=${VDCC_BUILD:-build}
V=$B/vdcc
T=$(mktemp -d "${TMPDIR:-/tmp}/vdcc-bench-suite.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
case "$B" in
*san*) small=(--size 8 --extents 2000 --calls 20000) ;;
*) small=() ;;
esac

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
    fail=$((fail + 1))
    echo "not ok - $1"
    if [ -n "${out:-}" ]; then sed 's/^/    | /' <<<"$out" | head -n 40; fi
}
# run CMD...: stdout in $out, stderr in $err, exit status in $rc.
run() { out=$("$@" 2>"$T/stderr"); rc=$?; err=$(cat "$T/stderr"); }

NUM='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
SPREAD="\\{\"min\":$NUM,\"median\":$NUM,\"max\":$NUM\\}"
ids=(read_seq_64k read_rand_4k write_seq_64k write_rand_4k miss_lookup open_small open_big replay)
with_raw=" read_seq_64k read_rand_4k write_seq_64k write_rand_4k "

# --- usage -----------------------------------------------------------------
run "$V" bench --help
if [ "$rc" -eq 0 ] && grep -q '^usage: vdcc bench' <<<"$out" && grep -q -- '--quick' <<<"$out"; then
    ok "--help prints the usage"
else bad "--help prints the usage"; fi
run "$V" bench --reps 0
if [ "$rc" -eq 2 ] && grep -q -- '--reps' <<<"$err"; then ok "--reps 0 is a usage error"; else bad "--reps 0 is a usage error"; fi
run "$V" bench --frobnicate
if [ "$rc" -eq 2 ] && grep -q "unknown option '--frobnicate'" <<<"$err"; then ok "unknown option"; else bad "unknown option"; fi
run "$V" bench --backend "$T/missing.so" --quick
if [ "$rc" -eq 2 ]; then ok "a backend that cannot be loaded is a usage error"; else bad "a backend that cannot be loaded is a usage error (exit $rc)"; fi

# --- JSON ----------------------------------------------------------------------
run "$V" bench --quick --reps 1 --json --dir "$T/keep" "${small[@]}"
json=$out
if [ "$rc" -eq 0 ]; then ok "--json run exits 0"; else bad "--json run exits 0 (exit $rc): $(tail -n 5 <<<"$err")"; fi
if [ "$(wc -l <<<"$json")" -eq 1 ] && [[ $json == '{"vdcc_bench":1,'*'}' ]] &&
    [ "$(tr -cd '{' <<<"$json" | wc -c)" -eq "$(tr -cd '}' <<<"$json" | wc -c)" ] &&
    [ "$(tr -cd '[' <<<"$json" | wc -c)" -eq "$(tr -cd ']' <<<"$json" | wc -c)" ]; then
    ok "JSON is one balanced object on one line"
else bad "JSON is one balanced object on one line"; fi
if grep -Eq "\"fs\":\\{\"type\":\"[^\"]+\",\"kind\":\"(memory|disk|network|unknown)\"\\}" <<<"$json" &&
    grep -Eq "\"baseline_rss_kib\":$NUM," <<<"$json"; then
    ok "JSON names the file system and the baseline RSS"
else bad "JSON names the file system and the baseline RSS"; fi
# One line per workload object.
split=$(sed 's/{"id":"/\n/g' <<<"$json")
for id in "${ids[@]}"; do
    w=$(grep "^$id\"" <<<"$split")
    good=1
    [ -n "$w" ] || good=0
    for p in '"status":"ok"' "\"backend\":$SPREAD" "\"peak_rss_kib\":$NUM" '"unit":"[^"]+"' '"reps":1,'; do
        grep -Eq -- "$p" <<<"$w" || good=0
    done
    if [[ $with_raw == *" $id "* ]]; then
        grep -Eq "\"raw\":$SPREAD,\"ratio\":$SPREAD" <<<"$w" || good=0
    else
        grep -q '"raw":null,"ratio":null' <<<"$w" || good=0
    fi
    if [ "$good" -eq 1 ]; then ok "JSON has $id with numeric figures"; else
        out=$w
        bad "JSON has $id with numeric figures"
    fi
done
out=$json
if grep -Eq "\"targets_met\":[0-9]+,\"targets_judged\":7\\}" <<<"$json"; then ok "JSON counts 7 judged targets"; else bad "JSON counts 7 judged targets"; fi
if grep -q 'vdcc bench: \[8/8\] replay' <<<"$err"; then ok "progress goes to stderr"; else bad "progress goes to stderr"; fi

# --- the table, reusing the images kept in --dir --------------------------------
run "$V" bench --quick --reps 2 --dir "$T/keep" "${small[@]}"
if [ "$rc" -eq 0 ]; then ok "text run exits 0"; else bad "text run exits 0 (exit $rc): $(tail -n 5 <<<"$err")"; fi
if grep -Eq '^  directory .* on [^ ]+ \((memory|disk|network|unknown)\)$' <<<"$out"; then
    ok "table names the file system kind"
else bad "table names the file system kind"; fi
n=$(grep -c 'reused from an earlier run' <<<"$out")
if [ "$n" -eq 3 ]; then ok "the images kept in --dir are reused"; else bad "the images kept in --dir are reused ($n of 3)"; fi
F="$NUM \\[$NUM\\.\\.$NUM\\]"
rows=(
    "read hits, sequential 64 KiB +MiB/s +$F +$F +$F"
    "read hits, random 4 KiB +MiB/s +$F +$F +$F"
    "writes, sequential 64 KiB +MiB/s +$F +$F +$F"
    "writes, random 4 KiB +MiB/s +$F +$F +$F"
    "misses, random lookups +lookups/s +$F +- +-"
    "open, small cache +ms +$F +- +-"
    "open, big cache +ms +$F +- +-"
    "replay, calls without data +calls/s +$F +- +-"
)
for r in "${rows[@]}"; do
    if grep -Eq "^$r .* $NUM MiB" <<<"$out"; then ok "table row /${r%% +*}/"; else bad "table row /${r%% +*}/"; fi
done
if grep -Eq '^targets met: [0-9]+ of 7; peak RSS <= 64 MiB: [0-9]+ of 8 workloads$' <<<"$out"; then
    ok "table ends with the target summary"
else bad "table ends with the target summary"; fi

# --- --only and --config ----------------------------------------------------------
run "$V" bench --quick --reps 1 --only open_small,replay --config NodeCacheSize=64 "${small[@]}"
if [ "$rc" -eq 0 ] && grep -Eq "^open, small cache +ms +$F" <<<"$out" &&
    grep -Eq "^replay, calls without data +calls/s +$F" <<<"$out" &&
    ! grep -q '^read hits' <<<"$out" && grep -q 'peak RSS <= 64 MiB: [0-9]* of 2 workloads' <<<"$out"; then
    ok "--only runs just the named workloads, with --config passed to the backend"
else bad "--only runs just the named workloads (exit $rc)"; fi
run "$V" bench --quick --reps 1 --only open_small --config NodeCacheSize=1 "${small[@]}"
if [ "$rc" -eq 1 ] && grep -q '^  open_small: FAILED: ' <<<"$out" && grep -q 'VERR_VD_UNKNOWN_CFG_VALUES' <<<"$out"; then
    ok "a config value the backend refuses fails the workload"
else bad "a config value the backend refuses fails the workload (exit $rc)"; fi
run "$V" bench --only read_seq_64k,bogus
if [ "$rc" -eq 2 ] && grep -q "unknown workload 'bogus'" <<<"$err"; then ok "--only refuses unknown ids"; else bad "--only refuses unknown ids"; fi

# --- a backend that crashes on its first read -----------------------------------
run "$V" bench --quick --reps 1 --backend "$B/tb_crash.so" "${small[@]}"
if [ "$rc" -eq 1 ] &&
    grep -Eq '^  read_seq_64k: FAILED: .*(signal|status)' <<<"$out" &&
    grep -Eq '^  miss_lookup: FAILED: ' <<<"$out" &&
    grep -Eq "^writes, sequential 64 KiB +MiB/s +$F" <<<"$out" &&
    grep -Eq "^replay, calls without data +calls/s +$F" <<<"$out"; then
    ok "a crashing backend fails the workloads it crashes in, the others still run"
else bad "a crashing backend fails the workloads it crashes in (exit $rc)"; fi

# --- a cache that never hits never meets a read-hit target -----------------------
run "$V" bench --quick --reps 1 --only read_seq_64k,read_rand_4k --backend "$B/tb_forget.so" "${small[@]}"
if grep -Eq '^read hits, sequential 64 KiB .* NO ' <<<"$out" && grep -Eq '^read hits, random 4 KiB .* NO ' <<<"$out" &&
    grep -q '^targets met: 0 of 2;' <<<"$out" && grep -q 'read_seq_64k: only 0.00% of the operations hit' <<<"$out"; then
    ok "an always-miss backend meets no read-hit target"
else bad "an always-miss backend meets no read-hit target (exit $rc)"; fi
# --size takes a suffix as every size option does.
run "$V" bench --quick --reps 1 --only write_seq_64k --size 8M
if [ "$rc" -eq 0 ]; then ok "--size 8M"; else bad "--size 8M (exit $rc)"; fi
run "$V" bench --size 8Q
if [ "$rc" -eq 2 ] && grep -q -- "--size: '8Q' is not a size" <<<"$err"; then ok "--size 8Q is refused, naming it"; else bad "--size 8Q (exit $rc)"; fi

# --- bench_ref: ref's own throughput and large-open figures (harness/bench/bench_ref.c) ---
run "$B/bench_ref" 4 2000
if [ "$rc" -eq 0 ] && grep -Eq "^  sequential 64K read +ref +$NUM MB/s +raw +$NUM MB/s +ref/raw +$NUM" <<<"$out" &&
    grep -Eq "^  open: $NUM ms, [0-9]+ metadata reads" <<<"$out" &&
    grep -q '^bench_ref part 2: 2 TiB dynamic cache, 2000 extents' <<<"$out"; then
    ok "bench_ref prints both parts with figures"
else bad "bench_ref prints both parts with figures (exit $rc)"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
