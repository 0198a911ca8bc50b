#!/usr/bin/env bash
# tools/mutate.sh - mutation testing of the conformance corpus against ref/.
#
# How good are the traces at catching a broken backend?  Make small
# deliberate bugs in copies of the reference backend's sources, rebuild vdcc
# against each, run `vdcc conform --jobs 2 --timeout 5` over
# corpus/conformance, and count the mutants the corpus kills (some trace
# fails), the survivors (everything passes: a gap in the corpus, or a mutant
# that changes nothing observable) and those that do not compile.
#
# Mutations (tools/mutate.awk): flipped comparisons (< <=, > >=, == !=),
# off-by-one (" + 1" / " - 1" dropped), dropped flush calls, wrong status
# codes (VERR_VD_BLOCK_FREE / VERR_VD_IMAGE_READ_ONLY -> VINF_SUCCESS,
# VERR_VD_GEN_INVALID_HEADER -> VERR_VD_IMAGE_CORRUPTED, return VERR_X ->
# return VINF_SUCCESS) and skipped validation (the `return VERR_X;` of an
# `if` removed), in the sources of libvciref.a the backend runs (not the
# image checker, plugin or benchmark).  The sample is fixed by --seed: all
# sites are listed, each kind ordered by a string hash of "SEED:site" (djb2,
# in awk), and the first of
# each taken by quota (cmp 45%, off1 15%, status 15%, noval 15%, flush 10%,
# leftovers to cmp).  The same seed and sources give the same mutants.
#
# The work happens in a copy of the tree (without build/ and .git) in a
# temporary directory: ninja -j2 builds vdcc there once (warnings are not
# errors in the copy, so a mutant that only warns still runs), then each
# mutant rewrites one file, rebuilds, runs `vdcc conform` with its defaults
# (every trace, and what conform adds to them), and restores the file.
# Nothing in the real tree is touched.  By default the copy builds the
# sanitizer vdccs `ninja test` runs: a mutant is run under ASan+UBSan
# (build/asan/vdcc: out-of-bounds access, overflow), and one that passes
# there again under MemorySanitizer (build/msan/vdcc: uninitialised reads).
# Expect 10-40 s per mutant.
#
# Verdicts: KILLED (some trace fails, crashes or times out), WARNED (all
# pass, but conform reports more quality warnings than for the unmutated
# backend: the mutant forgets data the original keeps, which conform
# reports as a SHOULD failure; counted as caught), SURVIVED, EQUIVALENT
# (below), NOCOMPILE.
#
# Equivalent mutants.  Some mutants cannot change anything VD can observe
# (a NULL-argument check VD never reaches, a hash-probe step that only
# changes where a node sits in memory).  tools/mutate-equivalent lists such
# sites, each with the reason; a listed mutant that survives is reported
# EQUIVALENT and left out of the score (a listed one that is killed counts
# as killed, and the list is said to be wrong about it).  The score line
# gives both figures: with the listed equivalents left out, and raw.
#
# Usage: tools/mutate.sh [--quick] [--count N] [--seed S] [--list] [--keep DIR]
#                        [--variant asan|opt] [--equivalent FILE]
#   --quick     5 mutants (what a test suite can afford)
#   --count N   mutants to run (default 80)
#   --seed S    sampling seed (default 1)
#   --list      only print the sampled mutants
#   --keep DIR  work in DIR (kept afterwards) instead of a temporary one
#   --variant V asan+msan (default): build/asan/vdcc, and for a mutant it
#               passes, build/msan/vdcc too (uninitialised reads); asan:
#               the first only; opt: build/vdcc (fastest, blind to silent
#               memory errors)
#   --equivalent FILE  the equivalent-mutant list (default
#               tools/mutate-equivalent; /dev/null: none)
# Output: one line per mutant, then "mutation score: K killed of K+S (P%)"
# with the counts and the list of survivors (file:line, the change, the
# original line).  Exit status: 0 when the run completed (whatever the
# score), 1 when the unmutated tree did not build or pass, 2 on usage errors.
set -u
count=80 seed=1 list=0 keep="" variant=asan+msan equiv=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) count=5 ;;
    --count) count=${2:?--count needs N}; shift ;;
    --seed) seed=${2:?--seed needs S}; shift ;;
    --list) list=1 ;;
    --keep) keep=${2:?--keep needs DIR}; shift ;;
    --variant) variant=${2:?--variant needs asan or opt}; shift ;;
    --equivalent) equiv=${2:?--equivalent needs FILE}; shift ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/mutate.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$count" in '' | *[!0-9]*) echo "tools/mutate.sh: --count wants a number" >&2; exit 2 ;; esac
case "$seed" in '' | *[!0-9]*) echo "tools/mutate.sh: --seed wants a number" >&2; exit 2 ;; esac

second=""
case "$variant" in
asan+msan) vdcc=build/asan/vdcc second=build/msan/vdcc ;;
asan) vdcc=build/asan/vdcc ;;
opt) vdcc=build/vdcc ;;
*) echo "tools/mutate.sh: --variant wants asan+msan, asan or opt" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
[ -n "$equiv" ] || equiv=$root/tools/mutate-equivalent
[ -r "$equiv" ] || { echo "tools/mutate.sh: cannot read the equivalent list '$equiv'" >&2; exit 2; }
# is_equivalent FILE KIND LINE-TEXT PREV-TEXT: whether the list names this
# mutant.  List lines: FILE<TAB>KIND<TAB>the line, trimmed<TAB>the nearest
# non-blank line above it, trimmed, or *<TAB>reason.
is_equivalent() {
    awk -F'\t' -v f="$1" -v k="$2" -v t="$3" -v pv="$4" '
        /^#/ || NF < 5 { next }
        $1 == f && $2 == k && $3 == t && ($4 == "*" || $4 == pv) { found = 1 }
        END { exit !found }' "$equiv"
}
awkprog=$root/tools/mutate.awk
files="ref/vci_format.c ref/vci_io.c ref/vci_alloc.c ref/vci_nodes.c ref/vci_tree.c ref/vci_lru.c
       ref/vci_cache.c ref/vci_data.c ref/vci_verify.c ref/vci_backend.c"

# --- the sample --------------------------------------------------------------
sites=$(for f in $files; do
    [ -f "$root/$f" ] && (cd "$root" && awk -v mode=list -v file="$f" -f "$awkprog" "$f")
done)
[ -n "$sites" ] || { echo "tools/mutate.sh: no mutation sites found" >&2; exit 1; }
ranked() { # kind: its sites, ordered by a hash of "SEED:site"
    awk -F'\t' -v k="$1" -v seed="$seed" '
        BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
        $3 == k {
            s = seed ":" $0; h = 5381
            for (i = 1; i <= length(s); i++) h = (h * 33 + ord[substr(s, i, 1)]) % 2147483629
            printf "%010d\t%s\n", h, $0
        }' <<<"$sites" | sort | cut -f2-
}
sample=""
left=$count
for kq in flush:10 noval:15 status:15 off1:15 cmp:45; do
    k=${kq%%:*} q=$(( (count * ${kq#*:} + 99) / 100 ))
    [ "$k" = cmp ] && q=$left
    [ "$q" -gt "$left" ] && q=$left
    [ "$q" -le 0 ] && continue
    pick=$(ranked "$k" | head -n "$q")
    [ -n "$pick" ] || continue
    sample+="$pick"$'\n'
    left=$((left - $(wc -l <<<"$pick")))
done
sample=$(sed '/^$/d' <<<"$sample" | sort -t$'\t' -k1,1 -k2,2n -k3,3 -k4,4n)
total=$(wc -l <<<"$sample")
echo "tools/mutate.sh: $(wc -l <<<"$sites") sites in $(wc -w <<<"$files") files; $total mutants sampled (seed $seed)"
if [ "$list" = 1 ]; then
    cut -f1,2,5 <<<"$sample" | sed 's/\t/:/; s/\t/  /'
    exit 0
fi

# --- the copy and its baseline -----------------------------------------------
if [ -n "$keep" ]; then
    mkdir -p "$keep" && W=$(cd "$keep" && pwd) || exit 2
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/vdcc-mutate.XXXXXX") || exit 2
    trap 'rm -rf "$W"' EXIT
fi
(cd "$root" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$W" && tar -xf -) || exit 1
sed -i 's/ -Werror / /' "$W/build.ninja"
mkdir -p "$W/.mutate-orig"
for f in $files; do [ -f "$W/$f" ] && cp "$W/$f" "$W/.mutate-orig/$(basename "$f")"; done
t0=$(date +%s)
if ! (cd "$W" && ninja -j2 $vdcc $second >"$W/.mutate-build.log" 2>&1); then
    echo "tools/mutate.sh: the unmutated tree does not build (see $W/.mutate-build.log)" >&2
    tail -n 20 "$W/.mutate-build.log" >&2
    exit 1
fi
conform() { (cd "$W" && timeout 900 "${1:-$vdcc}" conform --jobs 2 --timeout 10 >"$W/.mutate-conform.log" 2>&1); }
if [ -n "$second" ] && ! conform "$second"; then
    echo "tools/mutate.sh: the unmutated tree fails its own corpus under $second:" >&2
    grep -E '^not ok' "$W/.mutate-conform.log" >&2
    exit 1
fi
if ! conform; then
    echo "tools/mutate.sh: the unmutated tree fails its own corpus:" >&2
    grep -E '^not ok' "$W/.mutate-conform.log" >&2
    exit 1
fi
# Quality warnings (SHOULD clauses: a cache that forgets more than it must)
# of a conform run, from its "# N quality warnings" line.
warnings() { sed -n 's/^# \([0-9][0-9]*\) quality warnings.*/\1/p' "$W/.mutate-conform.log" | tail -n 1; }
base_warn=$(warnings); base_warn=${base_warn:-0}
echo "tools/mutate.sh: baseline built and passing in $(( $(date +%s) - t0 )) s ($W), $base_warn quality warnings"

# --- the mutants ------------------------------------------------------------------
killed=0 warned=0 survived=0 nocompile=0 equivalent=0 wrong_equiv=0 i=0
survivors="" equivalents=""
while IFS=$'\t' read -r f line kind occ desc; do
    i=$((i + 1))
    orig="$W/.mutate-orig/$(basename "$f")"
    text=$(sed -n "${line}p" "$orig" | sed 's/^[ \t]*//; s/[ \t]*$//')
    prev=$(head -n $((line - 1)) "$orig" | sed 's/^[ \t]*//; s/[ \t]*$//' | sed '/^$/d' | tail -n 1)
    listed=0
    is_equivalent "$f" "$kind" "$text" "$prev" && listed=1
    (cd "$W" && awk -v mode=apply -v line="$line" -v kind="$kind" -v occ="$occ" -f "$awkprog" "$orig" >"$f.mut") \
        && mv "$W/$f.mut" "$W/$f"
    if cmp -s "$orig" "$W/$f"; then
        echo "[$i/$total] SKIPPED  $f:$line $desc (no change)"
        continue
    fi
    m0=$(date +%s)
    by=""
    if ! (cd "$W" && timeout 600 ninja -j2 "$vdcc" >"$W/.mutate-build.log" 2>&1); then
        verdict="NOCOMPILE"; nocompile=$((nocompile + 1))
    elif conform && [ -n "$second" ] && (cd "$W" && timeout 600 ninja -j2 "$second" >"$W/.mutate-build.log" 2>&1) \
         && ! conform "$second"; then
        # Passed under ASan; the MemorySanitizer build (as `ninja test` runs
        # it too) sees reads of uninitialised memory that ASan does not.
        verdict="KILLED"; killed=$((killed + 1))
        first=$(grep -m1 -E '^not ok' "$W/.mutate-conform.log" | sed 's/^not ok [0-9]* - //')
        by=" by ${first##*/} (MSan build)"
        [ "$listed" = 1 ] && { wrong_equiv=$((wrong_equiv + 1)); by+=" (listed as equivalent: the list is wrong about it)"; }
    elif w=$(warnings) && [ "${w:-0}" -gt "$base_warn" ]; then
        # Conform passed but reports the mutant: it forgets data the
        # unmutated backend keeps (more SHOULD warnings than the baseline).
        verdict="WARNED"; warned=$((warned + 1)); killed=$((killed + 1))
        by=" by ${w} quality warnings (baseline $base_warn)"
    elif [ "$(grep -c '^not ok' "$W/.mutate-conform.log")" = 0 ] && grep -q ' passed, 0 failed' "$W/.mutate-conform.log"; then
        if [ "$listed" = 1 ]; then
            verdict="EQUIVALENT"; equivalent=$((equivalent + 1))
            equivalents+="  $f:$line: $desc    | $text"$'\n'
        else
            verdict="SURVIVED"; survived=$((survived + 1))
            survivors+="  $f:$line: $desc    | $text"$'\n'
        fi
    else
        verdict="KILLED"; killed=$((killed + 1))
        first=$(grep -m1 -E '^not ok' "$W/.mutate-conform.log" | sed 's/^not ok [0-9]* - //')
        by=" by ${first##*/}"
        if [ "$listed" = 1 ]; then
            wrong_equiv=$((wrong_equiv + 1))
            by+=" (listed as equivalent: the list is wrong about it)"
        fi
    fi
    cp "$orig" "$W/$f" # a fresh mtime: the next build recompiles it
    printf '[%d/%d] %-10s %s:%s %s (%d s)%s\n' "$i" "$total" "$verdict" "$f" "$line" "$desc" \
        $(( $(date +%s) - m0 )) "$by"
done <<<"$sample"

pct() { [ "$2" -gt 0 ] && echo $(( ($1 * 1000 / $2 + 5) / 10 )) || echo 0; }
run=$((killed + survived))
raw=$((run + equivalent))
echo "mutation score: $killed killed of $run ($(pct "$killed" "$run")%: $((killed - warned)) by a failure," \
     "$warned by new quality warnings); $survived survived," \
     "$equivalent equivalent (listed in $(basename "$equiv"), left out; raw score" \
     "$killed of $raw, $(pct "$killed" "$raw")%), $nocompile did not compile, $total sampled," \
     "variant $variant, $(( $(date +%s) - t0 )) s"
[ "$wrong_equiv" -gt 0 ] && echo "note: $wrong_equiv mutants listed as equivalent were killed; fix $(basename "$equiv")"
if [ -n "$survivors" ]; then
    echo "survivors:"
    printf '%s' "$survivors"
fi
if [ -n "$equivalents" ]; then
    echo "equivalent (survived, listed):"
    printf '%s' "$equivalents"
fi
exit 0
