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
# temporary directory: ninja -j2 builds build/vdcc there once (warnings are
# not errors in the copy, so a mutant that only warns still runs), then each
# mutant rewrites one file, rebuilds, runs the corpus, and restores it.
# Nothing in the real tree is touched.  Expect 10-20 s per mutant.
#
# Usage: tools/mutate.sh [--quick] [--count N] [--seed S] [--list] [--keep DIR]
#   --quick     5 mutants (what a test suite can afford)
#   --count N   mutants to run (default 80)
#   --seed S    sampling seed (default 1)
#   --list      only print the sampled mutants
#   --keep DIR  work in DIR (kept afterwards) instead of a temporary one
# Output: one line per mutant, then "mutation score: K killed of K+S (P%)"
# with the counts and the list of survivors (file:line, the change, the
# original line).  Exit status: 0 when the run completed (whatever the
# score), 1 when the unmutated tree did not build or pass, 2 on usage errors.
set -u
count=80 seed=1 list=0 keep=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) count=5 ;;
    --count) count=${2:?--count needs N}; shift ;;
    --seed) seed=${2:?--seed needs S}; shift ;;
    --list) list=1 ;;
    --keep) keep=${2:?--keep needs DIR}; shift ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/mutate.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$count" in '' | *[!0-9]*) echo "tools/mutate.sh: --count wants a number" >&2; exit 2 ;; esac
case "$seed" in '' | *[!0-9]*) echo "tools/mutate.sh: --seed wants a number" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
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
if ! (cd "$W" && ninja -j2 build/vdcc >"$W/.mutate-build.log" 2>&1); then
    echo "tools/mutate.sh: the unmutated tree does not build (see $W/.mutate-build.log)" >&2
    tail -n 20 "$W/.mutate-build.log" >&2
    exit 1
fi
conform() { (cd "$W" && timeout 900 build/vdcc conform --jobs 2 --timeout 5 corpus/conformance >"$W/.mutate-conform.log" 2>&1); }
if ! conform; then
    echo "tools/mutate.sh: the unmutated tree fails its own corpus:" >&2
    grep -E '^not ok' "$W/.mutate-conform.log" >&2
    exit 1
fi
echo "tools/mutate.sh: baseline built and passing in $(( $(date +%s) - t0 )) s ($W)"

# --- the mutants ------------------------------------------------------------------
killed=0 survived=0 nocompile=0 i=0
survivors=""
while IFS=$'\t' read -r f line kind occ desc; do
    i=$((i + 1))
    orig="$W/.mutate-orig/$(basename "$f")"
    (cd "$W" && awk -v mode=apply -v line="$line" -v kind="$kind" -v occ="$occ" -f "$awkprog" "$orig" >"$f.mut") \
        && mv "$W/$f.mut" "$W/$f"
    if cmp -s "$orig" "$W/$f"; then
        echo "[$i/$total] SKIPPED  $f:$line $desc (no change)"
        continue
    fi
    m0=$(date +%s)
    if ! (cd "$W" && timeout 600 ninja -j2 build/vdcc >"$W/.mutate-build.log" 2>&1); then
        verdict="NOCOMPILE"; nocompile=$((nocompile + 1))
    elif conform; then
        verdict="SURVIVED"; survived=$((survived + 1))
        survivors+="  $f:$line: $desc    | $(sed -n "${line}p" "$orig" | sed 's/^[ \t]*//')"$'\n'
    else
        verdict="KILLED"; killed=$((killed + 1))
        first=$(grep -m1 -E '^not ok' "$W/.mutate-conform.log" | sed 's/^not ok [0-9]* - //')
    fi
    cp "$orig" "$W/$f" # a fresh mtime: the next build recompiles it
    printf '[%d/%d] %-9s %s:%s %s (%d s)%s\n' "$i" "$total" "$verdict" "$f" "$line" "$desc" \
        $(( $(date +%s) - m0 )) "$([ "$verdict" = KILLED ] && echo " by ${first##*/}")"
done <<<"$sample"

run=$((killed + survived))
pct=0
[ "$run" -gt 0 ] && pct=$(( (killed * 1000 / run + 5) / 10 ))
echo "mutation score: $killed killed of $run ($pct%); $survived survived, $nocompile did not compile," \
     "$total sampled, $(( $(date +%s) - t0 )) s"
if [ -n "$survivors" ]; then
    echo "survivors:"
    printf '%s' "$survivors"
fi
exit 0
