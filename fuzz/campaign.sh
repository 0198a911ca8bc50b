#!/usr/bin/env bash
# fuzz/campaign.sh - a fuzzing campaign over every target, the way OSS-Fuzz
# and ClusterFuzzLite run one: for a budget of wall-clock time, on all CPUs,
# each target both from its seeds (and the corpus kept so far) and from an
# empty corpus, with libFuzzer + ASan/UBSan, the MSan build for a share of
# the time, and AFL++ (CMPLOG) where afl-fuzz is installed.
#
# Afterwards every working corpus (and AFL++'s queue) is merged with
# -merge=1 into OUT/corpus/<target> (a minimal corpus kept between
# campaigns), and every crash, timeout, OOM and leak is copied to
# OUT/findings/<target>/ beside a .repro file holding its reproducer
# commands and the tail of the log that found it.  The table at the end
# gives per target and engine: CPU seconds, exec/s, coverage (libFuzzer's
# cov: edges and ft: features) of the kept corpus at the start and end,
# the corpus size, and the findings.  Exit status: 0 clean, 1 a finding
# (or a run that died without leaving its input), 2 a usage or build error.
#
# Run `fuzz/campaign.sh --help` for the options; fuzz/README.md
# ("Campaigns") explains the time split and the AFL++ settings.
# A && B || die: die runs when A or B fails, which is what is meant.
# shellcheck disable=SC2015
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD

usage() {
    cat <<'EOF'
usage: fuzz/campaign.sh [options] BUDGET

BUDGET is wall-clock fuzzing time: 90s, 2m, 30m, 2h (building, and the
merge at the end, come on top).  Every job slot gets BUDGET, split between
targets, engines and starting points (seeds, empty corpus).

options:
  -j, --jobs N          fuzzing processes at a time (default: every CPU, nproc)
  --targets "T ..."     only these targets (default: all of the build)
  --msan-share PCT      share of the time for the MSan builds (default 20; 0: none)
  --afl-share PCT       share for AFL++ (default 20 where afl-fuzz is present; 0: none)
  --out DIR             corpus/, findings/ and work/ go under DIR (default: build,
                        or build/backend-SYMBOL with --backend-lib)
  --no-build            use the binaries already built (no ninja, no compiler)
  --dry-run             print the plan (engine target start seconds, a run a line)
                        and exit
  --backend-lib ARCHIVE --symbol NAME
                        fuzz your own backend: the static library ARCHIVE defines
                        `const VDCACHEBACKEND NAME`; it should be compiled with
                        -fsanitize=fuzzer-no-link,address,undefined.  The targets
                        fuzz_probe, fuzz_open, fuzz_ops and fuzz_model are built
                        against it into OUT/bin/ (libFuzzer + ASan/UBSan only: MSan
                        and AFL++ need the archive built their way)
  --progress SECS       a progress line every SECS (default: 60, or less on short runs)
  -h, --help            this text

Exit status: 0 no finding, 1 findings (see OUT/findings/), 2 usage or build error.
EOF
}
die() {
    echo "campaign: $*" >&2
    exit 2
}
need_arg() { # option value
    [ -n "${2:-}" ] || die "$1 needs a value (see --help)"
}

jobs=$(nproc 2>/dev/null || echo 1)
dry_run=0 targets_opt="" msan_share=20 afl_share="" out="" build=1 backend_lib="" symbol="" progress="" budget=""
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    -j | --jobs) need_arg "$1" "${2:-}"; jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    --targets) need_arg "$1" "${2:-}"; targets_opt=$2; shift 2 ;;
    --msan-share) need_arg "$1" "${2:-}"; msan_share=$2; shift 2 ;;
    --afl-share) need_arg "$1" "${2:-}"; afl_share=$2; shift 2 ;;
    --out) need_arg "$1" "${2:-}"; out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --dry-run) dry_run=1; build=0; shift ;;
    --backend-lib) need_arg "$1" "${2:-}"; backend_lib=$2; shift 2 ;;
    --symbol) need_arg "$1" "${2:-}"; symbol=$2; shift 2 ;;
    --progress) need_arg "$1" "${2:-}"; progress=$2; shift 2 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        [ -z "$budget" ] || die "one BUDGET only, got '$budget' and '$1'"
        budget=$1
        shift
        ;;
    esac
done
[ -n "$budget" ] || { usage >&2; exit 2; }
case $budget in
*[0-9]s) secs=${budget%s} ;;
*[0-9]m) secs=$(( ${budget%m} * 60 )) ;;
*[0-9]h) secs=$(( ${budget%h} * 3600 )) ;;
*) secs="" ;;
esac
[[ "${secs:-x}" =~ ^[0-9]+$ ]] && [ "$secs" -ge 5 ] ||
    die "BUDGET must be a number with a unit s, m or h, at least 5s (like 90s, 2m, 2h), not '$budget'"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs takes a positive number, not '$jobs'"
[[ "$msan_share" =~ ^[0-9]+$ ]] && [ "$msan_share" -le 90 ] || die "--msan-share takes 0 to 90, not '$msan_share'"
if [ -z "$afl_share" ]; then
    afl_share=20
    command -v afl-fuzz >/dev/null 2>&1 || afl_share=0
fi
[[ "$afl_share" =~ ^[0-9]+$ ]] && [ "$afl_share" -le 90 ] || die "--afl-share takes 0 to 90, not '$afl_share'"
[ $((msan_share + afl_share)) -le 90 ] || die "--msan-share and --afl-share leave ASan less than 10%"
if [ "$afl_share" -gt 0 ] && ! command -v afl-fuzz >/dev/null 2>&1; then
    die "--afl-share $afl_share, but afl-fuzz is not installed"
fi
if [ -n "$progress" ]; then
    [[ "$progress" =~ ^[1-9][0-9]*$ ]] || die "--progress takes seconds, not '$progress'"
else
    progress=$(( secs / 10 < 60 ? (secs / 10 < 10 ? 10 : secs / 10) : 60 ))
fi

all_targets="fuzz_probe fuzz_open fuzz_open_sa fuzz_ops fuzz_ops_sa fuzz_model fuzz_trace"
afl_targets="fuzz_probe fuzz_open fuzz_ops fuzz_model fuzz_trace" # the _sa mutator is libFuzzer's
if [ -n "$backend_lib$symbol" ]; then
    [ -n "$backend_lib" ] && [ -n "$symbol" ] || die "--backend-lib and --symbol go together"
    [ -f "$backend_lib" ] || die "--backend-lib $backend_lib: no such file"
    [[ "$symbol" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--symbol must be a C identifier, not '$symbol'"
    backend_lib=$(cd "$(dirname "$backend_lib")" && pwd)/$(basename "$backend_lib")
    # fuzz_trace does not touch a backend; the _sa mutator knows only VCI.
    all_targets="fuzz_probe fuzz_open fuzz_ops fuzz_model"
    msan_share=0 afl_share=0
    out=${out:-build/backend-$symbol}
    asan_dir=$out/bin msan_dir="" afl_dir="" cmplog_dir=""
else
    out=${out:-build}
    asan_dir=build/fuzz msan_dir=build/fuzz-msan afl_dir=build/afl cmplog_dir=build/afl-cmplog
fi
targets=${targets_opt:-$all_targets}
for t in $targets; do
    case " $all_targets " in
    *" $t "*) ;;
    *) die "unknown target '$t' (targets here: $all_targets)" ;;
    esac
done
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
work=$out/work

say() { printf '[campaign %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# ---- building ---------------------------------------------------------------
# build_backend: the four backend targets against the author's archive, with
# the flags of `ninja fuzz` (the judge uncovered, fuzz/judge.ignorelist).
build_backend() {
    local bin=$out/bin obj=$out/bin/obj log=$out/bin/build.log
    local cflags="-std=c11 -D_GNU_SOURCE -I$root -O1 -g -fno-omit-frame-pointer
        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
        -fsanitize-coverage-ignorelist=$root/fuzz/judge.ignorelist"
    mkdir -p "$obj" || return 1
    : >"$log"
    local src o objs=() pids=() failed=0 p
    for src in harness/host/*.c fuzz/fuzzlib.c fuzz/script.c; do
        o=$obj/$(tr / _ <<<"${src%.c}").o
        objs+=("$o")
        # The backend-independent objects are kept between campaigns while
        # newer than their source and every header they could include.
        if [ "$o" -nt "$src" ] && [ -z "$(find harness spec fuzz -name '*.h' -newer "$o" | head -n 1)" ]; then
            continue
        fi
        # shellcheck disable=SC2086
        clang $cflags -c "$src" -o "$o" >>"$log" 2>&1 &
        pids+=($!)
        if [ ${#pids[@]} -ge "$jobs" ]; then
            wait "${pids[0]}" || failed=1
            pids=("${pids[@]:1}")
        fi
    done
    for p in "${pids[@]}"; do
        wait "$p" || failed=1
    done
    [ $failed -eq 0 ] || return 1
    for t in $targets; do
        # shellcheck disable=SC2086
        clang $cflags "-DFUZZ_BACKEND=$symbol" -c "fuzz/$t.c" -o "$obj/$t.o" >>"$log" 2>&1 || return 1
        clang -fsanitize=fuzzer,address,undefined "$obj/$t.o" "${objs[@]}" "$backend_lib" -luuid -ldl \
            -o "$bin/$t" >>"$log" 2>&1 || return 1
    done
}

if [ "$build" -eq 1 ]; then
    if [ -n "$backend_lib" ]; then
        say "building $targets against $backend_lib ($symbol) into $out/bin"
        build_backend || { tail -n 30 "$out/bin/build.log" >&2; die "the build failed (log: $out/bin/build.log)"; }
    else
        ninja_targets="fuzz"
        [ "$msan_share" -gt 0 ] && ninja_targets="$ninja_targets fuzz-msan"
        [ "$afl_share" -gt 0 ] && ninja_targets="$ninja_targets afl"
        ninja_targets="$ninja_targets build/asan/fuzz.all"
        [ "$msan_share" -gt 0 ] && ninja_targets="$ninja_targets build/msan/fuzz.all"
        say "building: ninja $ninja_targets"
        # shellcheck disable=SC2086
        ninja -j "$jobs" $ninja_targets >"$out/campaign-build.log" 2>&1 ||
            { tail -n 30 "$out/campaign-build.log" >&2; die "ninja failed (log: $out/campaign-build.log)"; }
    fi
fi
for t in $targets; do
    [ "$dry_run" -eq 1 ] && break
    [ -x "$asan_dir/$t" ] || die "$asan_dir/$t is not built (run without --no-build)"
    [ "$msan_share" -eq 0 ] || [ -x "$msan_dir/$t" ] || die "$msan_dir/$t is not built (ninja fuzz-msan)"
done
if [ "$afl_share" -gt 0 ] && [ "$dry_run" -eq 0 ]; then
    for t in $afl_targets; do
        case " $targets " in *" $t "*) ;; *) continue ;; esac
        [ -x "$afl_dir/$t" ] && [ -x "$cmplog_dir/$t" ] || die "$afl_dir/$t or its CMPLOG twin is not built (ninja afl)"
    done
fi

# ---- the plan -----------------------------------------------------------------
# One run = engine target start seconds.  The CPU time (BUDGET x jobs) is
# split: MSan and AFL++ their shares, ASan the rest; inside a share evenly
# over targets and both starting points.  A slice under min_slice seconds
# is not worth a process start (seed loading, AFL++'s calibration): such a
# share runs one starting point per target instead, seeds and empty in turn.
# Each run also costs about run_cost seconds outside its slice (process
# start, loading the corpus, the final statistics): the plan is made once,
# then again with that cost taken off the budget, so `2m` takes about two
# minutes of fuzzing (more only where every slice is at its minimum).
min_slice=5 run_cost=3
opt() { # target key: the value of key in the target's .options
    sed -n "s/^$2 *= *//p" "fuzz/${1%_sa}.options"
}
dict_of() { # target: the dictionary file, or nothing
    case ${1%_sa} in
    fuzz_trace) echo fuzz/trace.dict ;;
    fuzz_model) ;;
    *) echo fuzz/vci.dict ;;
    esac
}
plan_engine() { # engine share-percent target...
    local engine=$1 share=$2 n k=0 slice t
    shift 2
    [ "$share" -gt 0 ] && [ $# -gt 0 ] || return 0
    local cpu=$(( avail * share / 100 ))
    n=$#
    slice=$(( cpu / (2 * n) ))
    if [ "$slice" -ge "$min_slice" ]; then
        for t in "$@"; do
            plan+=("$engine $t seeds $slice" "$engine $t empty $slice")
        done
    else
        slice=$(( cpu / n ))
        [ "$slice" -ge "$min_slice" ] || slice=$min_slice
        for t in "$@"; do
            plan+=("$engine $t $([ $((k % 2)) -eq 0 ] && echo seeds || echo empty) $slice")
            k=$((k + 1))
        done
    fi
}
afl_list=""
for t in $afl_targets; do
    case " $targets " in *" $t "*) afl_list="$afl_list $t" ;; esac
done
make_plan() { # avail: CPU seconds to share out
    avail=$1
    plan=()
    # shellcheck disable=SC2086
    plan_engine asan $((100 - msan_share - afl_share)) $targets
    # shellcheck disable=SC2086
    plan_engine msan "$msan_share" $targets
    # shellcheck disable=SC2086
    [ "$afl_share" -eq 0 ] || plan_engine afl "$afl_share" $afl_list
}
make_plan $((secs * jobs))
avail=$((secs * jobs - run_cost * ${#plan[@]}))
make_plan $((avail > 0 ? avail : 0))
if [ "$dry_run" -eq 1 ]; then
    printf '%s\n' "${plan[@]}"
    exit 0
fi

# Start fresh: the working directories and findings of the last campaign go
# (findings to findings.prev), the kept corpus stays.
rm -rf "$work" "$out/findings.prev"
[ -d "$out/findings" ] && mv "$out/findings" "$out/findings.prev"
mkdir -p "$work" "$out/findings" "$out/corpus" || die "cannot create directories under $out"
for t in $targets; do mkdir -p "$out/corpus/$t"; done

bin_of() { # engine target
    case $1 in
    asan) echo "$asan_dir/$2" ;;
    msan) echo "$msan_dir/$2" ;;
    afl) echo "$afl_dir/$2" ;;
    esac
}
# replay_cmds engine target file: the commands that reproduce a finding.
replay_cmds() {
    if [ -n "$backend_lib" ]; then
        echo "$asan_dir/$2 $3"
        return
    fi
    case $1 in
    msan) echo "build/msan/${2%_sa} $3"; echo "$msan_dir/$2 $3" ;;
    *) echo "build/asan/${2%_sa} $3"; echo "$asan_dir/$2 $3" ;;
    esac
}
# keep_finding engine target start file kind log: copies one finding.
keep_finding() {
    local engine=$1 t=$2 start=$3 f=$4 kind=$5 log=$6 name dest
    name=$kind-$(sha1sum "$f" | cut -c1-16)
    mkdir -p "$out/findings/$t"
    dest=$out/findings/$t/$name
    [ -e "$dest" ] && return 0
    cp "$f" "$dest"
    {
        echo "# $t, $engine, from $start; $(date -u +%Y-%m-%dT%H:%MZ); reproduce with:"
        replay_cmds "$engine" "$t" "$dest"
        echo "# the log that found it:"
        grep -v -E '^#[0-9]+[[:space:]]' "$log" | tail -n 40 | sed 's/^/# /'
    } >"$dest.repro"
}

# ---- one libFuzzer run ------------------------------------------------------------
# run_libfuzzer idx engine target start seconds: fuzzes for the seconds,
# started again after each finding (libFuzzer stops at the first), and
# writes work/<idx>/result: cpu execs cov ft findings dead.
run_libfuzzer() {
    local idx=$1 engine=$2 t=$3 start=$4 left=$5
    local dir=$work/$idx bin rc n execs=0 found=0 dead=0 cov=0 ft=0 line f kind cpu=0 c
    local dict args=()
    bin=$(bin_of "$engine" "$t")
    mkdir -p "$dir/corpus" "$dir/art"
    dict=$(dict_of "$t")
    [ -n "$dict" ] && args+=("-dict=$dict")
    local inputs=("$dir/corpus")
    if [ "$start" = seeds ]; then
        inputs+=("$out/corpus/$t")
        [ -d "corpus/seeds/${t%_sa}" ] && inputs+=("corpus/seeds/${t%_sa}")
    fi
    local t0 k=0
    t0=$(date +%s)
    while [ "$left" -gt 0 ] && [ $k -lt 20 ]; do
        local log=$dir/run-$k.log
        TIMEFORMAT='%3U %3S'
        c=$( { time "$bin" -max_total_time="$left" -timeout="$(opt "$t" timeout)" \
            -rss_limit_mb="$(opt "$t" rss_limit_mb)" -max_len="$(opt "$t" max_len)" "${args[@]}" \
            -print_final_stats=1 -artifact_prefix="$dir/art/" "${inputs[@]}" >"$log" 2>&1 ; } 2>&1 )
        rc=$?
        cpu=$(awk -v a="$cpu" -v c="$c" 'BEGIN { split(c, x, " "); printf "%.3f", a + x[1] + x[2] }')
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        execs=$((execs + ${n:-0}))
        line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
        if [ -n "$line" ]; then
            cov=$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$line")
            ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$line")
        fi
        [ $rc -eq 0 ] && break
        local any=0
        for f in "$dir"/art/*; do
            [ -f "$f" ] || continue
            kind=${f##*/}
            kind=${kind%%-*}
            case $kind in
            crash | timeout | oom | leak) ;;
            *) continue ;; # slow-unit-*: a note, not a finding
            esac
            keep_finding "$engine" "$t" "$start" "$f" "$kind" "$log"
            found=$((found + 1))
            any=1
            rm -f "$f"
        done
        if [ $any -eq 0 ]; then
            # Died without an input to show for it: the log is the finding.
            dead=$((dead + 1))
            mkdir -p "$out/findings/$t"
            cp "$log" "$out/findings/$t/died-$engine-$start-$idx-$k.log"
            break
        fi
        left=$(( $5 - ($(date +%s) - t0) ))
        k=$((k + 1))
    done
    echo "$cpu $execs $cov $ft $found $dead" >"$dir/result"
}

# ---- one AFL++ run ------------------------------------------------------------------
# run_afl idx target start seconds: afl-fuzz with its CMPLOG twin; the
# queue joins the merge, crashes and hangs become findings.
run_afl() {
    local idx=$1 t=$2 start=$3 s=$4 dir=$work/$1 st f kind dict args=() cpu c
    mkdir -p "$dir/in"
    if [ "$start" = seeds ] && [ -d "corpus/seeds/$t" ]; then
        # AFL++ refuses inputs over 1 MiB.
        find "corpus/seeds/$t" -type f -size -1024k ! -name 'README*' -exec cp {} "$dir/in/" \;
    fi
    [ -n "$(ls -A "$dir/in")" ] || printf 'x' >"$dir/in/x"
    dict=$(dict_of "$t")
    [ -n "$dict" ] && args+=(-x "$dict")
    TIMEFORMAT='%3U %3S'
    c=$( { time env AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        AFL_CMPLOG_ONLY_NEW=1 AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 \
        timeout -k 5 $((s + 60)) afl-fuzz -V "$s" -t 25000 -m none -i "$dir/in" -o "$dir/afl" "${args[@]}" \
        -c "$cmplog_dir/$t" -- "$afl_dir/$t" >"$dir/afl.log" 2>&1 ; } 2>&1 )
    cpu=$(awk -v c="$c" 'BEGIN { split(c, x, " "); printf "%.3f", x[1] + x[2] }')
    st=$dir/afl/default/fuzzer_stats
    local execs=0 edges=0 found=0 dead=0 first=0
    if [ -f "$st" ]; then
        execs=$(sed -n 's/^execs_done *: *//p' "$st")
        edges=$(sed -n 's/^edges_found *: *//p' "$st")
        # plot_data's first row: the edges after the dry run of the inputs.
        first=$(grep -v '^#' "$dir/afl/default/plot_data" 2>/dev/null | head -n 1 | awk -F', *' '{print $NF}')
    else
        dead=1
        mkdir -p "$out/findings/$t"
        cp "$dir/afl.log" "$out/findings/$t/died-afl-$start-$idx.log"
    fi
    for kind in crashes hangs; do
        for f in "$dir/afl/default/$kind"/id:*; do
            [ -f "$f" ] || continue
            keep_finding afl "$t" "$start" "$f" "$([ $kind = crashes ] && echo crash || echo timeout)" "$dir/afl.log"
            found=$((found + 1))
        done
    done
    echo "$cpu ${execs:-0} ${first:-0} ${edges:-0} $found $dead" >"$dir/result"
}

# ---- coverage of the kept corpus ------------------------------------------------------
# coverage target dir...: "cov ft" of libFuzzer's INITED line over the dirs.
coverage() {
    local t=$1 line
    shift
    line=$("$asan_dir/$t" -runs=0 -timeout="$(opt "$t" timeout)" -rss_limit_mb="$(opt "$t" rss_limit_mb)" \
        -max_len="$(opt "$t" max_len)" "$@" 2>&1 | grep -E 'INITED.*cov: ' | tail -n 1)
    if [ -n "$line" ]; then
        echo "$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$line") $(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$line")"
    else
        echo "? ?"
    fi
}

# ---- run --------------------------------------------------------------------------------
nruns=${#plan[@]}
say "budget $budget on $jobs job(s): $nruns runs (ASan $((100 - msan_share - afl_share))%, MSan $msan_share%, AFL++ $afl_share%); out: $out"
declare -A cov_start=()
for t in $targets; do
    seeds=()
    [ -d "corpus/seeds/${t%_sa}" ] && seeds=("corpus/seeds/${t%_sa}")
    cov_start[$t]=$(coverage "$t" "$out/corpus/$t" "${seeds[@]}")
done

campaign_t0=$(date +%s)
declare -A running=() # pid -> index
next=0 done_runs=0 last_progress=$campaign_t0
while [ $next -lt "$nruns" ] || [ ${#running[@]} -gt 0 ]; do
    while [ $next -lt "$nruns" ] && [ ${#running[@]} -lt "$jobs" ]; do
        read -r engine t start s <<<"${plan[$next]}"
        mkdir -p "$work/$next"
        echo "${plan[$next]}" >"$work/$next/plan"
        if [ "$engine" = afl ]; then
            run_afl "$next" "$t" "$start" "$s" &
        else
            run_libfuzzer "$next" "$engine" "$t" "$start" "$s" &
        fi
        running[$!]=$next
        say "run $((next + 1))/$nruns: $engine $t from $start, ${s}s"
        next=$((next + 1))
    done
    sleep 0.25
    for pid in "${!running[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            i=${running[$pid]}
            unset "running[$pid]"
            done_runs=$((done_runs + 1))
            read -r _ _ _ _ found dead <"$work/$i/result" 2>/dev/null || found=0 dead=1
            [ "${found:-0}" -gt 0 ] || [ "${dead:-0}" -gt 0 ] &&
                say "FINDING: $(cat "$work/$i/plan"): $found finding(s), $dead died; see $out/findings/"
        fi
    done
    now=$(date +%s)
    if [ $((now - last_progress)) -ge "$progress" ] && [ ${#running[@]} -gt 0 ]; then
        last_progress=$now
        for pid in "${!running[@]}"; do
            i=${running[$pid]}
            line=$(cat "$work/$i"/run-*.log 2>/dev/null | grep -E '^#[0-9]+[[:space:]]' | tail -n 1 | cut -c1-100)
            [ -z "$line" ] && [ -f "$work/$i/afl/default/fuzzer_stats" ] &&
                line="execs $(sed -n 's/^execs_done *: *//p' "$work/$i/afl/default/fuzzer_stats"), edges $(sed -n 's/^edges_found *: *//p' "$work/$i/afl/default/fuzzer_stats")"
            say "$((now - campaign_t0))s/${secs}s, $done_runs/$nruns runs done; $(cat "$work/$i/plan"): ${line:-starting}"
        done
    fi
done
say "fuzzing done after $(( $(date +%s) - campaign_t0 ))s; merging into $out/corpus/"

# ---- merge, measure, report ------------------------------------------------------------------
total_found=0
printf '\n%-13s %-6s %4s %9s %11s %9s %17s %19s %7s %8s\n' target engine runs cpu-s execs exec/s \
    "cov start->end" "ft start->end" corpus findings
for t in $targets; do
    dirs=()
    for i in $(seq 0 $((nruns - 1))); do
        read -r _ pt _ _ <"$work/$i/plan"
        [ "$pt" = "$t" ] || continue
        [ -d "$work/$i/corpus" ] && dirs+=("$work/$i/corpus")
        [ -d "$work/$i/afl/default/queue" ] && dirs+=("$work/$i/afl/default/queue")
    done
    [ -d "corpus/seeds/${t%_sa}" ] && dirs+=("corpus/seeds/${t%_sa}")
    "$asan_dir/$t" -merge=1 -timeout="$(opt "$t" timeout)" -rss_limit_mb="$(opt "$t" rss_limit_mb)" \
        -max_len="$(opt "$t" max_len)" "$out/corpus/$t" "${dirs[@]}" >"$work/merge-$t.log" 2>&1 ||
        say "the merge of $t failed (log: $work/merge-$t.log)"
    read -r c1 f1 <<<"${cov_start[$t]}"
    read -r c2 f2 <<<"$(coverage "$t" "$out/corpus/$t")"
    size=$(find "$out/corpus/$t" -type f | wc -l)
    for engine in asan msan afl; do
        runs=0 cpu=0 execs=0 found=0 dead=0 e1="" e2=""
        for i in $(seq 0 $((nruns - 1))); do
            read -r pe pt _ _ <"$work/$i/plan"
            [ "$pe" = "$engine" ] && [ "$pt" = "$t" ] || continue
            read -r rc_cpu rc_execs rc_cov rc_ft rc_found rc_dead <"$work/$i/result" ||
                { rc_cpu=0 rc_execs=0 rc_cov=0 rc_ft=0 rc_found=0 rc_dead=1; }
            runs=$((runs + 1))
            cpu=$(awk -v a="$cpu" -v b="$rc_cpu" 'BEGIN { printf "%.1f", a + b }')
            execs=$((execs + rc_execs))
            found=$((found + rc_found))
            dead=$((dead + rc_dead))
            # AFL++ counts its own edges: its row shows them (after the dry run -> end).
            [ "$engine" = afl ] && { e1="$rc_cov"; e2="$rc_ft"; }
        done
        [ $runs -gt 0 ] || continue
        total_found=$((total_found + found + dead))
        rate=$(awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')
        if [ "$engine" = afl ]; then
            covs="afl edges $e1->$e2" fts="-"
        else
            covs="$c1->$c2" fts="$f1->$f2"
        fi
        printf '%-13s %-6s %4d %9s %11d %9s %17s %19s %7s %8s\n' "$t" "$engine" "$runs" "$cpu" "$execs" \
            "$rate" "$covs" "$fts" "$size" "$found$([ "$dead" -gt 0 ] && echo "+${dead}died")"
    done
done
echo
echo "exec/s is executions per CPU second; cov/ft: libFuzzer's edges and features of the kept corpus"
echo "(start: kept corpus + seeds; end: $out/corpus/<target> after the merge)."
if [ "$total_found" -gt 0 ]; then
    echo "campaign: $total_found finding(s) in $out/findings/ (each with a .repro file):"
    find "$out/findings" -type f ! -name '*.repro' | sort | sed 's/^/  /'
    exit 1
fi
echo "campaign: clean"
exit 0
