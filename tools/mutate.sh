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
# VERR_VD_GEN_INVALID_HEADER -> VERR_VD_IMAGE_CORRUPTED, return VERR_X or
# return VCI_CORRUPT(...) -> return VINF_SUCCESS) and skipped validation
# (the `return VERR_X;` or `return VCI_CORRUPT(...);` of an `if` removed),
# in the sources of libvciref.a the backend runs (not the
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
# Nothing in the real tree is touched.  A mutant goes through up to three
# stages, cheapest first, and the first that fails kills it: the optimised
# vdcc with conform's defaults (traces, crash and fault sweeps, hostile
# images); then, as `ninja test` runs the sanitizers, the ASan+UBSan vdcc
# (out-of-bounds access, overflow) and the MemorySanitizer vdcc
# (uninitialised reads), both without the sweeps.  Expect 30-90 s per
# mutant.
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
# Usage: tools/mutate.sh [--quick] [--count N | --all] [--seed S] [--list] [--keep DIR]
#                        [--variant full|opt] [--equivalent FILE]
#   --quick     5 mutants (what a test suite can afford)
#   --count N   mutants to run (default 80)
#   --all       every site once, in file order, instead of a sample (hours:
#               how a list of equivalents is reviewed site by site)
#   --seed S    sampling seed (default 1)
#   --list      only print the sampled mutants
#   --keep DIR  work in DIR (kept afterwards) instead of a temporary one
#   --variant V full (default): the three stages above; opt: the
#               optimised stage only (faster, blind to silent memory errors)
#   --equivalent FILE  the equivalent-mutant list (default
#               tools/mutate-equivalent; /dev/null: none)
# Output: one line per mutant, then "mutation score: K killed of K+S (P%)"
# with the counts and the list of survivors (file:line, the change, the
# original line).  Exit status: 0 when the run completed (whatever the
# score), 1 when the unmutated tree did not build or pass, 2 on usage errors.
set -u
count=80 seed=1 list=0 keep="" variant=full equiv="" all=0
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) count=5 ;;
    --count) count=${2:?--count needs N}; shift ;;
    --all) all=1 ;;
    --seed) seed=${2:?--seed needs S}; shift ;;
    --list) list=1 ;;
    --keep) keep=${2:?--keep needs DIR}; shift ;;
    --variant) variant=${2:?--variant needs full or opt}; shift ;;
    --equivalent) equiv=${2:?--equivalent needs FILE}; shift ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/mutate.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$count" in '' | *[!0-9]*) echo "tools/mutate.sh: --count wants a number" >&2; exit 2 ;; esac
case "$seed" in '' | *[!0-9]*) echo "tools/mutate.sh: --seed wants a number" >&2; exit 2 ;; esac

case "$variant" in
full | opt) ;;
*) echo "tools/mutate.sh: --variant wants full or opt" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
[ -n "$equiv" ] || equiv=$root/tools/mutate-equivalent
[ -r "$equiv" ] || { echo "tools/mutate.sh: cannot read the equivalent list '$equiv'" >&2; exit 2; }
# is_equivalent FILE KIND LINE-TEXT PREV-TEXT OCC: whether the list names
# this mutant.  List lines: FILE<TAB>KIND or KIND#OCC (that occurrence on
# the line only)<TAB>the line, trimmed<TAB>the nearest non-blank line above
# it, trimmed, or *<TAB>reason.
is_equivalent() {
    # Through the environment: awk -v would interpret backslashes ('\0').
    EQ_F=$1 EQ_K=$2 EQ_T=$3 EQ_P=$4 EQ_O=$5 awk -F'\t' '
        /^#/ || NF < 5 { next }
        {
            k = $2; o = ""
            if (index(k, "#") > 0) { o = substr(k, index(k, "#") + 1); k = substr(k, 1, index(k, "#") - 1) }
        }
        $1 == ENVIRON["EQ_F"] && k == ENVIRON["EQ_K"] && (o == "" || o == ENVIRON["EQ_O"]) \
            && $3 == ENVIRON["EQ_T"] && ($4 == "*" || $4 == ENVIRON["EQ_P"]) { found = 1 }
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
[ "$all" = 1 ] && sample=$sites
sample=$(sed '/^$/d' <<<"$sample" | sort -t$'\t' -k1,1 -k2,2n -k3,3 -k4,4n)
total=$(wc -l <<<"$sample")
echo "tools/mutate.sh: $(wc -l <<<"$sites") sites in $(wc -w <<<"$files") files; $total mutants $([ "$all" = 1 ] && echo "(every site)" || echo "sampled (seed $seed)")"
if [ "$list" = 1 ]; then
    # The occurrence is named when the line has several sites of that kind.
    awk -F'\t' '{ printf "%s:%s  %s%s\n", $1, $2, $5, ($4 > 1 ? " (occurrence " $4 ")" : "") }' <<<"$sample"
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
# The stages a mutant goes through, cheapest first; the first that fails
# kills it.  Each: binary, extra conform options, label.
stages=("build/vdcc||optimised build")
if [ "$variant" = full ]; then
    # The sanitizer stages skip the sweeps (the optimised stage ran them,
    # and they are most of conform's time): they are for what only a
    # sanitizer sees, an out-of-bounds or uninitialised read on the way.
    stages+=("build/asan/vdcc|--no-crash --no-faults|ASan+UBSan build"
             "build/msan/vdcc|--no-crash --no-faults|MSan build")
fi
stage_bin() { echo "${1%%|*}"; }
stage_opts() { local x=${1#*|}; echo "${x%%|*}"; }
stage_label() { echo "${1##*|}"; }
all_bins=$(for st in "${stages[@]}"; do stage_bin "$st"; done)
if ! (cd "$W" && ninja -j2 $all_bins >"$W/.mutate-build.log" 2>&1); then
    echo "tools/mutate.sh: the unmutated tree does not build (see $W/.mutate-build.log)" >&2
    tail -n 20 "$W/.mutate-build.log" >&2
    exit 1
fi
# conform binary options...: runs conform, its output in .mutate-conform.log.
# With first_fail=1 (the mutants' runs) it is stopped at its first failing
# test point: that alone kills the mutant, and a mutant that hangs every
# trace would otherwise wait out each one's timeout.  (SIGTERM reaches vdcc
# through timeout; vdcc ends its children and exits.)
conform() {
    local bin=$1 pid; shift
    (cd "$W" && exec timeout 1200 "$bin" conform --jobs 2 --timeout 10 "$@" >"$W/.mutate-conform.log" 2>&1) &
    pid=$!
    if [ "${first_fail:-0}" = 1 ]; then
        while kill -0 "$pid" 2>/dev/null; do
            if grep -qE '^not ok' "$W/.mutate-conform.log" 2>/dev/null; then
                kill -TERM "$pid" 2>/dev/null
                break
            fi
            sleep 0.5
        done
    fi
    wait "$pid"
}
# Quality warnings (SHOULD clauses: a cache that forgets more than it must)
# of a conform run, from its "# N quality warnings" line.
warnings() { sed -n 's/^# \([0-9][0-9]*\) quality warnings.*/\1/p' "$W/.mutate-conform.log" | tail -n 1; }
base_warn=()
for st in "${stages[@]}"; do
    # shellcheck disable=SC2046 # the options are words
    if ! conform "$(stage_bin "$st")" $(stage_opts "$st"); then
        echo "tools/mutate.sh: the unmutated tree fails its own corpus ($(stage_label "$st")):" >&2
        grep -E '^not ok' "$W/.mutate-conform.log" >&2
        exit 1
    fi
    w=$(warnings)
    base_warn+=("${w:-0}")
done
echo "tools/mutate.sh: baseline built and passing in $(( $(date +%s) - t0 )) s ($W), ${base_warn[0]} quality warnings"

# --- the mutants ------------------------------------------------------------------
killed=0 warned=0 survived=0 nocompile=0 equivalent=0 wrong_equiv=0 i=0
survivors="" equivalents=""
while IFS=$'\t' read -r f line kind occ desc; do
    i=$((i + 1))
    [ "$occ" -gt 1 ] && desc="$desc (occurrence $occ)"
    orig="$W/.mutate-orig/$(basename "$f")"
    text=$(sed -n "${line}p" "$orig" | sed 's/^[ \t]*//; s/[ \t]*$//')
    prev=$(head -n $((line - 1)) "$orig" | sed 's/^[ \t]*//; s/[ \t]*$//' | sed '/^$/d' | tail -n 1)
    listed=0
    is_equivalent "$f" "$kind" "$text" "$prev" "$occ" && listed=1
    (cd "$W" && awk -v mode=apply -v line="$line" -v kind="$kind" -v occ="$occ" -f "$awkprog" "$orig" >"$f.mut") \
        && mv "$W/$f.mut" "$W/$f"
    if cmp -s "$orig" "$W/$f"; then
        echo "[$i/$total] SKIPPED  $f:$line $desc (no change)"
        continue
    fi
    m0=$(date +%s)
    verdict="" by="" warned_by=""
    si=0
    for st in "${stages[@]}"; do
        bin=$(stage_bin "$st")
        if ! (cd "$W" && timeout 600 ninja -j2 "$bin" >"$W/.mutate-build.log" 2>&1); then
            [ "$si" = 0 ] && { verdict="NOCOMPILE"; nocompile=$((nocompile + 1)); }
            break # a later stage that does not build: judged by the earlier ones
        fi
        # shellcheck disable=SC2046
        first_fail=1 conform "$bin" $(stage_opts "$st")
        if grep -qE '^not ok' "$W/.mutate-conform.log" || ! grep -q ' passed, 0 failed' "$W/.mutate-conform.log"; then
            verdict="KILLED"
            first=$(grep -m1 -E '^not ok' "$W/.mutate-conform.log" | sed 's/^not ok [0-9]* - //')
            by=" by ${first##*/}${first:+ }($(stage_label "$st"))"
            break
        fi
        w=$(warnings)
        if [ -z "$warned_by" ] && [ "${w:-0}" -gt "${base_warn[$si]}" ]; then
            warned_by=" by ${w} quality warnings, baseline ${base_warn[$si]} ($(stage_label "$st"))"
        fi
        si=$((si + 1))
    done
    if [ -z "$verdict" ] && [ -n "$warned_by" ]; then
        # Conform passed but reports the mutant: it forgets data the
        # unmutated backend keeps (more SHOULD warnings than the baseline).
        verdict="WARNED" by=$warned_by
    fi
    case "$verdict" in
    KILLED | WARNED)
        killed=$((killed + 1))
        [ "$verdict" = WARNED ] && warned=$((warned + 1))
        if [ "$listed" = 1 ]; then
            wrong_equiv=$((wrong_equiv + 1))
            by+=" (listed as equivalent: the list is wrong about it)"
        fi ;;
    NOCOMPILE) ;;
    *)
        if [ "$listed" = 1 ]; then
            verdict="EQUIVALENT"; equivalent=$((equivalent + 1))
            equivalents+="  $f:$line: $desc    | $text"$'\n'
        else
            verdict="SURVIVED"; survived=$((survived + 1))
            survivors+="  $f:$line: $desc    | $text"$'\n'
        fi ;;
    esac
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
