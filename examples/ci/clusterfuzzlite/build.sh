#!/bin/bash -eu
# examples/ci/clusterfuzzlite/build.sh - builds vdcc's fuzz_model target
# (fuzz/README.md: a script of writes, reads, flushes, reopens and crash
# copies run on a fresh cache, every byte judged against the contract)
# against this repository's backend, the way OSS-Fuzz and ClusterFuzzLite
# build: $CC $CFLAGS for every object (the host library too, so that a
# MemorySanitizer build is instrumented throughout), $CXX and
# $LIB_FUZZING_ENGINE to link, the target, its options and its seed corpus
# into $OUT.
#
# Yours to set: the backend's sources and the VDCACHEBACKEND symbol it
# exports (here the example backend of examples/minimal-plugin/).
backend_sources="mini.c"
backend_symbol=g_MiniCacheBackend

src=$SRC/backend
v=$src/vdcc-fuzz   # the vendored fuzz sources (Dockerfile)
obj=$WORK/vdcc-objs
rm -rf "$obj" && mkdir -p "$obj/include/vdcc"
# A backend includes <vdcc/vdcache.h>, as against an installed vdcc.
cp "$v/spec/vdcache.h" "$obj/include/vdcc/"

flags="-std=c11 -D_GNU_SOURCE"
if [ "${SANITIZER:-}" = memory ]; then
    flags="$flags -DVDCC_MSAN=1" # libuuid is not instrumented: the host unpoisons what it writes
fi
for f in "$v"/harness/host/*.c "$v"/fuzz/fuzzlib.c "$v"/fuzz/script.c "$v"/fuzz/fuzz_model.c; do
    $CC $CFLAGS $flags -DFUZZ_BACKEND=$backend_symbol -c "$f" -o "$obj/$(basename "$f" .c).o"
done
for f in $backend_sources; do
    $CC $CFLAGS $flags -I"$obj/include" -c "$src/$f" -o "$obj/backend_$(basename "$f" .c).o"
done

# libuuid statically, so the target runs where only the base runner is.
uuid=-luuid
for a in /usr/lib/x86_64-linux-gnu/libuuid.a /usr/lib/libuuid.a; do
    if [ -f "$a" ]; then uuid=$a; break; fi
done
$CXX $CXXFLAGS "$obj"/*.o $LIB_FUZZING_ENGINE "$uuid" -ldl -o "$OUT/fuzz_model"

cp "$v/fuzz/fuzz_model.options" "$OUT/"
if [ -d "$v/seeds" ]; then
    (cd "$v/seeds" && zip -q -j "$OUT/fuzz_model_seed_corpus.zip" ./*)
fi
