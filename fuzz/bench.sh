#!/usr/bin/env bash
# fuzz/bench.sh - executions per second of every libFuzzer target.
#
# Usage: fuzz/bench.sh [SECONDS] [BUILD...]
#   Runs each target of each BUILD (default: build/fuzz and build/fuzz-msan,
#   from `ninja fuzz fuzz-msan`) for SECONDS (default 10) from its seed
#   corpus, in a fresh scratch corpus, with the target's .options (max_len)
#   and dictionary, and prints one row per run: exec/s, coverage (cov: and
#   ft: of libFuzzer's last status line), the corpus size reached, and how
#   many crashes stopped it.  A crash does not end the measurement: the
#   target is started again for the time left (libFuzzer stops at the first
#   crash), and exec/s is all executions over all the time.  Artifacts go to
#   build/bench/<build>/<target>/.  Prints figures only: it asserts nothing
#   about speed.  Set BENCH_TARGETS to measure fewer targets.
#
#   The rate depends on the inputs the run happens to find (a corpus of
#   long scripts runs slower than one of short ones), so two unseeded runs
#   of the same build can differ by a third.  Each run therefore uses
#   libFuzzer's -seed=BENCH_SEED (default 1): the same build then walks the
#   same path, and builds compare fairly.  Vary BENCH_SEED to see the
#   spread.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:-10}
shift $(( $# > 0 ? 1 : 0 ))
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(build/fuzz build/fuzz-msan)
targets=${BENCH_TARGETS:-"fuzz_probe fuzz_open fuzz_open_sa fuzz_ops fuzz_ops_sa fuzz_model fuzz_trace"}

opt() { # target key: the value of key in the target's .options
    sed -n "s/^$2 *= *//p" "fuzz/${1%_sa}.options"
}
dict() { # target: -dict=... or nothing
    case ${1%_sa} in
    fuzz_trace) echo "-dict=fuzz/trace.dict" ;;
    fuzz_model) ;;
    *) echo "-dict=fuzz/vci.dict" ;;
    esac
}

printf '%-16s %-10s %8s %8s %8s %8s %8s %7s\n' build target seconds execs exec/s cov ft crashes
for b in "${builds[@]}"; do
    for t in $targets; do
        if [ ! -x "$b/$t" ]; then
            printf '%-16s %-10s (not built)\n' "$b" "$t"
            continue
        fi
        art=build/bench/$(basename "$b")/$t
        rm -rf "$art"
        mkdir -p "$art/corpus"
        execs=0 crashes=0 cov=0 ft=0 left=$secs
        start=$(date +%s%N)
        while [ "$left" -gt 0 ]; do
            log=$art/run-$crashes.log
            # shellcheck disable=SC2046
            "$b/$t" -max_total_time="$left" -seed="${BENCH_SEED:-1}" -timeout=25 -rss_limit_mb=2560 \
                -max_len="$(opt "$t" max_len)" $(dict "$t") -print_final_stats=1 \
                -artifact_prefix="$art/" "$art/corpus" "corpus/seeds/${t%_sa}" >"$log" 2>&1
            rc=$?
            n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
            execs=$((execs + ${n:-0}))
            line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
            if [ -n "$line" ]; then
                cov=$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$line")
                ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$line")
            fi
            [ $rc -eq 0 ] && break
            crashes=$((crashes + 1))
            now=$(date +%s%N)
            left=$(( secs - (now - start) / 1000000000 ))
            [ "$crashes" -ge 50 ] && break
        done
        end=$(date +%s%N)
        ms=$(( (end - start) / 1000000 ))
        [ "$ms" -gt 0 ] || ms=1
        printf '%-16s %-10s %8d %8d %8d %8s %8s %7d\n' "$b" "${t#fuzz_}" $((ms / 1000)) "$execs" \
            $((execs * 1000 / ms)) "$cov" "$ft" "$crashes"
    done
done
