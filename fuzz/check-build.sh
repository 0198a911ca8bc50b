#!/usr/bin/env bash
# fuzz/check-build.sh - `ninja fuzz-check`: proves the OSS-Fuzz build works.
#
# Runs fuzz/oss-fuzz/build.sh with the environment OSS-Fuzz gives it, for
# the sanitizers project.yaml declares (address, undefined, memory) with
# libFuzzer, and for AFL++; outputs go to build/oss-out/<build>/ (scratch in
# build/oss-work/).  Then, like OSS-Fuzz's own check_build:
#   - every libFuzzer target survives an empty input, `-runs=4 -seed=1337`,
#     and a replay of its seed corpus (unzipped from <target>_seed_corpus.zip)
#     with -rss_limit_mb=2560 -timeout=25, then fuzzes for FUZZ_CHECK_SECONDS
#     (default 5) from an empty corpus (an abort there fails the check);
#   - every AFL++ target reaches "All set and ready to roll" within 35 s.
# Prints one line per check and ends with "N passed, N failed"; exits 1 when
# anything failed.  Takes a few minutes on two cores.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD
targets="fuzz_probe fuzz_open fuzz_open_sa fuzz_ops fuzz_ops_sa fuzz_model fuzz_trace"
afl_targets="fuzz_probe fuzz_open fuzz_ops fuzz_model fuzz_trace"
passed=0 failed=0
fresh_secs=${FUZZ_CHECK_SECONDS:-5}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir -p build/oss-src

result() { # status name [log]
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'PASS  %s\n' "$2"
    else
        failed=$((failed + 1))
        printf 'FAIL  %s\n' "$2"
        [ -n "${3:-}" ] && [ -f "$3" ] && tail -n 25 "$3" | sed 's/^/    | /'
    fi
}

# unzip_to ZIP DIR: with unzip, or python3's zipfile where unzip is missing.
unzip_to() {
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$1" -d "$2"
    else
        python3 -m zipfile -e "$1" "$2"
    fi
}

# build NAME SANITIZER ENGINE CC CXX CFLAGS LIB_FUZZING_ENGINE
build() {
    local name=$1 san=$2 engine=$3 cc=$4 cxx=$5 cflags=$6 lfe=$7
    local out=$root/build/oss-out/$name log=$tmp/build-$name.log
    rm -rf "$out"
    env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C \
        CC="$cc" CXX="$cxx" CFLAGS="$cflags" CXXFLAGS="$cflags" LIB_FUZZING_ENGINE="$lfe" \
        OUT="$out" SRC="$root/build/oss-src" WORK="$root/build/oss-work/$name" \
        SANITIZER="$san" FUZZING_ENGINE="$engine" ARCHITECTURE=x86_64 VDCC_ROOT="$root" \
        AFL_QUIET=1 bash fuzz/oss-fuzz/build.sh >"$log" 2>&1
    result $? "$name: build.sh" "$log"
}

# libfuzzer_checks NAME
libfuzzer_checks() {
    local name=$1 out=$root/build/oss-out/$1 t log seeds ml
    : >"$tmp/empty"
    for t in $targets; do
        log=$tmp/$name-$t.log
        if [ ! -x "$out/$t" ]; then
            result 1 "$name/$t: missing"
            continue
        fi
        "$out/$t" -rss_limit_mb=2560 -timeout=25 "$tmp/empty" >"$log" 2>&1
        result $? "$name/$t: empty input" "$log"
        "$out/$t" -rss_limit_mb=2560 -timeout=25 -runs=4 -seed=1337 >"$log" 2>&1
        result $? "$name/$t: -runs=4 -seed=1337" "$log"
        # From nothing, as OSS-Fuzz starts a new project: the seeds never
        # reach what mutations of nothing find first (issue 18).
        rm -rf "$tmp/fresh" && mkdir -p "$tmp/fresh"
        local extra=()
        [ -f "$out/$t.dict" ] && extra+=("-dict=$out/$t.dict")
        ml=$(sed -n 's/^max_len *= *//p' "$out/$t.options" 2>/dev/null)
        [ -n "$ml" ] && extra+=("-max_len=$ml")
        "$out/$t" -rss_limit_mb=2560 -timeout=25 -max_total_time="$fresh_secs" "${extra[@]}" \
            -artifact_prefix="$tmp/fresh/" "$tmp/fresh" >"$log" 2>&1
        result $? "$name/$t: ${fresh_secs}s from an empty corpus" "$log"
        seeds=$tmp/seeds-$name-$t
        rm -rf "$seeds"
        mkdir -p "$seeds"
        if [ -f "$out/${t}_seed_corpus.zip" ]; then
            unzip_to "$out/${t}_seed_corpus.zip" "$seeds" >"$log" 2>&1
            "$out/$t" -rss_limit_mb=2560 -timeout=25 -runs=0 "$seeds" >"$log" 2>&1
            local rc=$?
            local n
            n=$(find "$seeds" -type f | wc -l)
            result $rc "$name/$t: seed corpus replay ($n inputs)" "$log"
        else
            result 1 "$name/$t: no seed corpus" "$log"
        fi
    done
}

afl_checks() {
    local out=$root/build/oss-out/afl t log seeds
    for t in $afl_targets; do
        log=$tmp/afl-$t.log
        seeds=$tmp/afl-seeds-$t
        rm -rf "$seeds" "$tmp/afl-out-$t"
        mkdir -p "$seeds"
        [ -f "$out/${t}_seed_corpus.zip" ] && unzip_to "$out/${t}_seed_corpus.zip" "$seeds"
        # AFL++ refuses inputs over 1 MiB; an empty directory needs one input.
        find "$seeds" -type f -size +1024k -delete
        [ -n "$(ls -A "$seeds")" ] || printf 'x' >"$seeds/x"
        AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
            timeout 35 afl-fuzz -V 3 -i "$seeds" -o "$tmp/afl-out-$t" -- "$out/$t" >"$log" 2>&1
        grep -q "All set and ready to roll" "$log"
        result $? "afl/$t: ready to roll within 35 s" "$log"
    done
}

common="-O1 -fno-omit-frame-pointer -gline-tables-only"
build address address libfuzzer clang clang++ \
    "$common -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
    -fsanitize=fuzzer
libfuzzer_checks address

# OSS-Fuzz's UBSan list without unsigned-integer-overflow (well-defined in C,
# and silenced on ClusterFuzz too) and vptr (C++ only).
ubsan=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound
build undefined undefined libfuzzer clang clang++ \
    "$common -fsanitize=$ubsan -fno-sanitize-recover=$ubsan -fsanitize=fuzzer-no-link" \
    -fsanitize=fuzzer
libfuzzer_checks undefined

build memory memory libfuzzer clang clang++ \
    "$common -fsanitize=memory -fsanitize-memory-track-origins -fsanitize=fuzzer-no-link" \
    -fsanitize=fuzzer
libfuzzer_checks memory

build afl address afl afl-clang-fast afl-clang-fast++ "-O1 -gline-tables-only" /usr/lib/afl/libAFLDriver.a
afl_checks

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
