#!/usr/bin/env bash
# tools/gen-eviction-traces.sh - writes the two generated READ-7 traces of
# corpus/conformance (too long to keep by hand):
#   x-eviction-rekey.trace       eviction order after an extent's start moves
#   x-eviction-many-reads.trace  read recency over more reads than a small
#                                bookkeeping structure holds
# Usage: tools/gen-eviction-traces.sh [DIR]   (default corpus/conformance)
# The output depends on nothing but this script.
set -eu
dir=${1:-$(dirname "$0")/../corpus/conformance}

rekey() {
    cat <<'HDR'
vdcc-trace 1
name x-eviction-rekey
requires CREATE_DYNAMIC
clauses READ-1 READ-7 WRITE-4
# Eviction order survives an extent changing its start.  Fifteen 16 KiB
# extents fill a 256 KiB cache; the first 4 KiB of the second one are
# written again (what is left of it starts 4 KiB later: a cache keyed by
# start must move it without losing its place among the others); the
# first extent is read (now the most recently used); then new writes
# need room.  A cache that evicts what was used least recently keeps
# the extent just read and the newest writes (READ-7); one whose recency
# was lost with the changed start evicts by other rules and forgets them
# (a quality warning).  Every hit must be the last data written (READ-1).
create c0 file=c0.cache size=256K -> OK
HDR
    for i in $(seq 0 14); do
        echo "vdwrite c0 off=$((i * 1024))K len=16K data=pattern:$((600 + i)) clause=WRITE-4 -> OK"
    done
    echo "vdwrite c0 off=1024K len=4K data=pattern:620 clause=WRITE-4 -> OK"
    echo "vdread c0 off=0 len=16K -> hit|miss data=pattern:600 should=hit clause=READ-7"
    for j in 0 1 2 3; do
        echo "vdwrite c0 off=$(((20 + j) * 1024))K len=16K data=pattern:$((630 + j)) clause=WRITE-4 -> OK"
    done
    echo "vdread c0 off=0 len=16K -> hit|miss data=pattern:600 should=hit clause=READ-7"
    for j in 0 1 2 3; do
        echo "vdread c0 off=$(((20 + j) * 1024))K len=16K -> hit|miss data=pattern:$((630 + j)) should=hit clause=READ-7"
    done
    echo "vdread c0 off=1024K len=16K -> hit|miss data=pattern:620@1024K+4K,pattern:601@1028K+12K clause=READ-1"
    for i in $(seq 2 14); do
        if [ "$i" -ge 10 ]; then tail=" should=hit clause=READ-7"; else tail=" clause=READ-1"; fi
        echo "vdread c0 off=$((i * 1024))K len=16K -> hit|miss data=pattern:$((600 + i))$tail"
    done
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
}

ring() {
    local n=1100 q=200 base
    base=$((n * 64))
    cat <<HDR
vdcc-trace 1
name x-eviction-many-reads
requires CREATE_DYNAMIC
clauses READ-1 READ-7 WRITE-4
# Read recency over more reads than a small bookkeeping structure holds.
# $n separate 4 KiB extents nearly fill a 4.5 MiB cache and are then
# all read, oldest first; new writes then need room for about 170
# extents.  Evicting what was used least recently takes the first ones
# read and keeps the last ones read (READ-7): a cache that records only
# so many reads may forget the oldest of them, never the newest.  Every
# hit must be the last data written (READ-1).
create c0 file=c0.cache size=4608K -> OK
HDR
    for i in $(seq 0 $((n - 1))); do
        echo "vdwrite c0 off=$((i * 64))K len=4K data=pattern:$((1000 + i)) clause=WRITE-4 -> OK"
    done
    for i in $(seq 0 $((n - 1))); do
        echo "vdread c0 off=$((i * 64))K len=4K -> hit|miss data=pattern:$((1000 + i))"
    done
    for j in $(seq 0 $((q - 1))); do
        echo "vdwrite c0 off=$((base + j * 64))K len=4K data=pattern:$((3000 + j)) clause=WRITE-4 -> OK"
    done
    for i in $(seq $((n - 80)) $((n - 1))); do
        echo "vdread c0 off=$((i * 64))K len=4K -> hit|miss data=pattern:$((1000 + i)) should=hit clause=READ-7"
    done
    for j in $(seq $((q - 20)) $((q - 1))); do
        echo "vdread c0 off=$((base + j * 64))K len=4K -> hit|miss data=pattern:$((3000 + j)) should=hit clause=READ-7"
    done
    for i in $(seq 0 7 $((n - 81))); do
        echo "vdread c0 off=$((i * 64))K len=4K -> hit|miss data=pattern:$((1000 + i)) clause=READ-1"
    done
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
}

rekey >"$dir/x-eviction-rekey.trace"
ring >"$dir/x-eviction-many-reads.trace"
