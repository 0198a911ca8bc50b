#!/bin/bash -eu
# fuzz/oss-fuzz/build.sh - builds vdcc's fuzz targets the OSS-Fuzz way.
#
# Reads the environment OSS-Fuzz (and ClusterFuzzLite) provide: CC, CXX,
# CFLAGS, CXXFLAGS (the engine's and sanitizer's flags), LIB_FUZZING_ENGINE
# (the engine's driver, linked last, with $CXX), OUT (where the fuzzers,
# their .options, .dict and _seed_corpus.zip go), SRC (the checkout is
# $SRC/vdcc unless VDCC_ROOT says otherwise), WORK (scratch), SANITIZER.
# fuzz/check-build.sh runs it locally with the same variables.
#
# The libraries (harness/host, ref, harness/trace) are compiled here from
# their sources with the same flags, so the engine sees coverage inside the
# backend; every .c directly in those directories is part of its library
# except programs (an object defining main), so
# new files need no change here.  Under MemorySanitizer VDCC_MSAN is
# defined (libuuid is not instrumented; harness/host/uuid.c unpoisons).
# The judging code (fuzz/judge.ignorelist: the host library, the script
# interpreter) is compiled without coverage feedback, as in ninja's fuzz
# builds: through clang's -fsanitize-coverage-ignorelist when CFLAGS ask
# for sanitizer coverage (libFuzzer), through AFL_LLVM_DENYLIST for AFL++.
# Seed corpora are zipped with `zip` (present in OSS-Fuzz's base-builder),
# or with python3's zipfile module where zip is missing.

root=${VDCC_ROOT:-$SRC/vdcc}
work=${WORK:-/tmp}/vdcc-build
targets="fuzz_probe fuzz_open fuzz_open_sa fuzz_ops fuzz_ops_sa fuzz_model fuzz_trace"

cd "$root"
rm -rf "$work"
mkdir -p "$work/host" "$work/ref" "$work/trace" "$work/fuzz" "$OUT"

flags="-std=c11 -D_GNU_SOURCE -I$root"
if [ "${SANITIZER:-}" = memory ]; then
    flags="$flags -DVDCC_MSAN=1"
fi

judge=$root/fuzz/judge.ignorelist
export AFL_LLVM_DENYLIST=$judge
case " $CFLAGS " in
    *-fsanitize=fuzzer-no-link* | *-fsanitize-coverage=*) flags="$flags -fsanitize-coverage-ignorelist=$judge" ;;
esac

# compile OBJ SRC [EXTRA...]
compile() {
    local obj=$1 src=$2
    shift 2
    $CC $CFLAGS $flags "$@" -c "$src" -o "$obj"
}

for lib in host:harness/host ref:ref trace:harness/trace; do
    name=${lib%%:*} dir=${lib#*:}
    for src in "$dir"/*.c; do
        obj=$work/$name/$(basename "$src" .c).o
        compile "$obj" "$src"
        # A program's main must not stand in for the engine's.
        if nm -g --defined-only "$obj" | grep -qE ' T main$'; then
            rm -f "$obj"
        fi
    done
    ar crs "$work/lib$name.a" "$work/$name"/*.o
done

for src in fuzzlib script mutator fuzz_probe fuzz_open fuzz_ops fuzz_model fuzz_trace; do
    compile "$work/fuzz/$src.o" "fuzz/$src.c"
done
compile "$work/fuzz/mutator_ops.o" fuzz/mutator.c -DFUZZ_MUTATOR_OPS=1

# libuuid statically, so the fuzzers run where only the base runner image is.
uuid=-luuid
for a in /usr/lib/x86_64-linux-gnu/libuuid.a /usr/lib/libuuid.a; do
    if [ -f "$a" ]; then uuid=$a; break; fi
done

# link NAME OBJ... (libraries and the engine appended)
link() {
    local name=$1
    shift
    $CXX $CXXFLAGS "$@" $LIB_FUZZING_ENGINE "$work/libref.a" "$work/libtrace.a" "$work/libhost.a" \
        "$uuid" -ldl -o "$OUT/$name"
}
f=$work/fuzz
link fuzz_probe "$f/fuzz_probe.o" "$f/fuzzlib.o"
link fuzz_open "$f/fuzz_open.o" "$f/fuzzlib.o"
link fuzz_open_sa "$f/fuzz_open.o" "$f/mutator.o" "$f/fuzzlib.o"
link fuzz_ops "$f/fuzz_ops.o" "$f/script.o" "$f/fuzzlib.o"
link fuzz_ops_sa "$f/fuzz_ops.o" "$f/mutator_ops.o" "$f/script.o" "$f/fuzzlib.o"
link fuzz_model "$f/fuzz_model.o" "$f/script.o" "$f/fuzzlib.o"
link fuzz_trace "$f/fuzz_trace.o" "$f/fuzzlib.o"

# zipdir ZIP DIR... : the files of each DIR (recursively), flat, into ZIP
# (no ZIP when there are none).
zipdir() {
    local zip=$1
    shift
    rm -f "$zip"
    if command -v zip >/dev/null 2>&1; then
        local d
        for d in "$@"; do
            if [ -d "$d" ]; then
                find "$d" -type f ! -name 'README*' -print0 | xargs -0 -r zip -q -j "$zip"
            fi
        done
    else
        python3 - "$zip" "$@" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for d in sys.argv[2:]:
        for base, _, files in os.walk(d):
            for n in sorted(files):
                if not n.startswith("README"):
                    z.write(os.path.join(base, n), n)
PY
    fi
}

for t in $targets; do
    base=${t%_sa}
    cp "fuzz/$base.options" "$OUT/$t.options"
    case $base in
        fuzz_trace) cp fuzz/trace.dict "$OUT/$t.dict" ;;
        fuzz_model) ;;
        *) cp fuzz/vci.dict "$OUT/$t.dict" ;;
    esac
    # Seeds only: corpus/regressions/ holds inputs that crash until their
    # bug is fixed; tests/suites/fuzz_replay.sh replays those.
    zipdir "$OUT/${t}_seed_corpus.zip" "corpus/seeds/$base"
done
