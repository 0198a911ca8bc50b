#!/usr/bin/env bash
# tests/suites/fuzz_replay.sh - every seed and every regression, through
# every fuzz target, with the standalone replay driver of $VDCC_BUILD
# (build/asan: ASan+UBSan+LSan; build/msan: MemorySanitizer).
#
# For each target T the driver $VDCC_BUILD/T replays corpus/seeds/T and
# corpus/regressions/T in one process.  Each input that runs to its end is
# one pass.  A contract violation (abort) or sanitizer report ends the
# process: that counts one failure, named by the driver's last "RUN" line,
# and the driver is run again on the inputs after it, so one bad input does
# not hide the others.  A target with no seeds at all fails (an empty replay
# proves nothing).  Ends with "N passed, N failed"; exits 1 on any failure.
set -u
b=${VDCC_BUILD:?VDCC_BUILD must name a build directory, e.g. build/asan}
cd "$(dirname "$0")/../.." || exit 2
targets="fuzz_probe fuzz_open fuzz_ops fuzz_model fuzz_trace"
passed=0 failed=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# The inputs of target t in the driver's order (sorted, README* and *.md
# skipped), one per line.
inputs() {
    local d
    for d in "corpus/seeds/$1" "corpus/regressions/$1"; do
        [ -d "$d" ] || continue
        find "$d" -type f ! -name 'README*' ! -name '*.md' ! -name '.*' | LC_ALL=C sort
    done
}

for t in $targets; do
    if [ ! -x "$b/$t" ]; then
        echo "FAIL $t: $b/$t not built"
        failed=$((failed + 1))
        continue
    fi
    inputs "$t" >"$tmp/all"
    if [ ! -s "$tmp/all" ]; then
        echo "FAIL $t: no seeds in corpus/seeds/$t"
        failed=$((failed + 1))
        continue
    fi
    cp "$tmp/all" "$tmp/todo"
    while [ -s "$tmp/todo" ]; do
        xargs -d '\n' "$b/$t" -timeout=120 <"$tmp/todo" >"$tmp/log" 2>&1
        rc=$?
        ok=$(grep -c '^ok   ' "$tmp/log")
        passed=$((passed + ok))
        bad=$(grep -c '^FAIL ' "$tmp/log")
        failed=$((failed + bad))
        [ "$bad" -eq 0 ] || grep '^FAIL ' "$tmp/log" | sed "s/^/$t: /"
        if [ $rc -eq 0 ]; then
            break
        fi
        last=$(grep -E '^(RUN|TIMEOUT) ' "$tmp/log" | tail -n 1 | cut -c6-)
        if [ -z "$last" ] || grep -qF "ok   $last ($(wc -c <"$last" 2>/dev/null | tr -d ' ') bytes, " "$tmp/log"; then
            echo "FAIL $t: the driver exited with status $rc"
            tail -n 20 "$tmp/log" | sed 's/^/    | /'
            failed=$((failed + 1))
            break
        fi
        echo "FAIL $t: $last"
        grep -v -E '^(RUN|ok) ' "$tmp/log" | grep -v '^    #' | head -n 12 | sed 's/^/    | /'
        failed=$((failed + 1))
        # Go on after the input that failed.
        awk -v last="$last" 'found {print} $0 == last {found = 1}' "$tmp/todo" >"$tmp/rest"
        mv "$tmp/rest" "$tmp/todo"
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
