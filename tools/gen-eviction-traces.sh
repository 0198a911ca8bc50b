#!/usr/bin/env bash
# tools/gen-eviction-traces.sh - writes the generated traces of
# corpus/conformance that are too long to keep by hand:
#   x-eviction-rekey.trace       eviction order after an extent's start moves
#                                (READ-7)
#   x-eviction-split.trace       eviction order after a discard splits an
#                                extent in two (READ-7)
#   x-eviction-rekey-ends.trace  eviction order after the newest and the
#                                oldest extent change their start (READ-7)
#   x-eviction-reread.trace      read recency across two rounds of reads that
#                                read the same extent at the same place (READ-7)
#   x-eviction-many-reads.trace  read recency over more reads than a small
#                                bookkeeping structure holds (READ-7)
#   x-reopen-verify.trace        a multi-level index with gaps in its
#                                allocation, kept across a read-write reopen
#                                and a first write (CLOSE-3)
#   x-reopen-holes.trace         the same for data with discarded holes of
#                                every length from 8 to 18 extents
#   x-tree-bridges.trace         gaps between many extents filled, pieces
#                                ending where index nodes' ranges begin
#   x-node-churn.trace           an index many times larger than a small
#                                node cache, visited in scattered orders
#   x-split-full-cache.trace     an index that must grow while the cache
#                                is full
# Usage: tools/gen-eviction-traces.sh [DIR]   (default corpus/conformance)
# The output depends on nothing but this script.
set -eu
dir=${1:-$(dirname "$0")/../corpus/conformance}

# header NAME REQUIRES CLAUSES: the version line and the header lines.
header() { printf 'vdcc-trace 1\nname %s\nrequires %s\nclauses %s\n' "$1" "$2" "$3"; }
# w OFF LEN SEED: a VD-style write of pattern SEED.
w() { echo "vdwrite c0 off=$1 len=$2 data=pattern:$3 clause=WRITE-4 -> OK"; }
# r OFF LEN SEED [EXTRA]: a VD-style read that may hit pattern SEED or miss;
# EXTRA (e.g. " should=hit clause=READ-7") is appended as it is.
r() { echo "vdread c0 off=$1 len=$2 -> hit|miss data=pattern:$3${4:-}"; }

# The 256 KiB eviction traces (rekey, split, reread): fifteen 16 KiB
# extents 1 MiB apart fill the cache (fill15 SEED: extent i has pattern
# SEED + i); room4 SEED writes four more at 20..23 MiB (patterns SEED..),
# which need room; kept4 SEED reads them back as READ-7 expects (the
# newest writes stay); rest15 SEED reads extents 2..14, of which 10..14,
# the most recent of the first fifteen, should stay.
fill15() {
    for i in $(seq 0 14); do
        w "$((i * 1024))K" 16K "$(($1 + i))"
    done
}
room4() {
    for j in 0 1 2 3; do
        w "$(((20 + j) * 1024))K" 16K "$(($1 + j))"
    done
}
kept4() {
    for j in 0 1 2 3; do
        r "$(((20 + j) * 1024))K" 16K "$(($1 + j))" " should=hit clause=READ-7"
    done
}
rest15() {
    for i in $(seq 2 14); do
        if [ "$i" -ge 10 ]; then tail=" should=hit clause=READ-7"; else tail=" clause=READ-1"; fi
        r "$((i * 1024))K" 16K "$(($1 + i))" "$tail"
    done
}

rekey() {
    header x-eviction-rekey "CREATE_DYNAMIC" "READ-1 READ-7 WRITE-4"
    cat <<'HDR'
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
    fill15 600
    w "1024K" 4K "620"
    r "0" 16K "600" " should=hit clause=READ-7"
    room4 630
    r "0" 16K "600" " should=hit clause=READ-7"
    kept4 630
    echo "vdread c0 off=1024K len=16K -> hit|miss data=pattern:620@1024K+4K,pattern:601@1028K+12K clause=READ-1"
    rest15 600
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
}

rekey_ends() {
    header x-eviction-rekey-ends "CREATE_DYNAMIC" "READ-1 READ-7 WRITE-4"
    cat <<'HDR'
# Eviction order survives a change of start at either end of the recency
# order (x-eviction-rekey moves one in the middle).  Fifteen 16 KiB
# extents fill a 256 KiB cache.  First the newest one has its first 4 KiB
# written again (what is left of it starts 4 KiB later), the first
# extent is read, and new writes need room; then, in a fresh cache, the
# same for the oldest one, and the second extent is read.  A cache that
# evicts what was used least recently keeps the extent just read and the
# newest writes both times (READ-7); one whose recency list lost an end
# evicts by other rules and forgets them (a quality warning).  Every hit
# must be the last data written (READ-1).
create c0 file=c0.cache size=256K -> OK
HDR
    fill15 800
    w "14336K" 4K "820"
    r "0" 16K "800" " should=hit clause=READ-7"
    room4 830
    r "0" 16K "800" " should=hit clause=READ-7"
    kept4 830
    r "14340K" 12K "814" " should=hit clause=READ-7"
    r "14336K" 4K "820" " should=hit clause=READ-7"
    echo "close c0 delete -> OK"
    echo "create c0 file=c0.cache size=256K -> OK"
    fill15 900
    w "0" 4K "920"
    r "1024K" 16K "901" " should=hit clause=READ-7"
    room4 930
    r "1024K" 16K "901" " should=hit clause=READ-7"
    kept4 930
    r "0" 4K "920" " should=hit clause=READ-7"
    r "4K" 12K "900" " clause=READ-1"
    echo "close c0 -> OK"
}

split() {
    header x-eviction-split "CREATE_DYNAMIC DISCARD" "READ-1 READ-7 WRITE-4 DISCARD-1"
    cat <<'HDR'
# Eviction order survives an extent split in two.  Fifteen 16 KiB extents
# fill a 256 KiB cache; 4 KiB in the middle of the second one are
# discarded (a cache that keeps extents now has two pieces of it: the
# right-hand one must take the old extent's place among the others); the
# right-hand piece and then the first extent are read (now the most
# recently used); then new writes need room.  A cache that evicts what was
# used least recently gives up the left-hand piece and the next oldest
# extents, and keeps the two just read and the newest writes (READ-7); one whose recency list broke at the split
# evicts by other rules and forgets them (a quality warning).  Every hit
# must be the last data written (READ-1), and the discarded middle
# misses (DISCARD-1).  The flush right after the split puts the changed
# list on disk (for VCI, where vdcc conform checks it: VCI-1).
create c0 file=c0.cache size=256K -> OK
HDR
    fill15 700
    echo "discard c0 off=1028K len=4K -> OK|VERR_VD_DISCARD_ALIGNMENT_NOT_MET clause=DISCARD-1"
    echo "vdread c0 off=1028K len=4K -> miss clause=DISCARD-1"
    echo "flush c0 -> OK"
    r "1032K" 8K "701" " should=hit clause=READ-7"
    r "0" 16K "700" " should=hit clause=READ-7"
    room4 730
    r "0" 16K "700" " should=hit clause=READ-7"
    r "1032K" 8K "701" " should=hit clause=READ-7"
    kept4 730
    echo "vdread c0 off=1024K len=4K -> hit|miss data=pattern:701 clause=READ-1"
    echo "vdread c0 off=1028K len=4K -> miss clause=DISCARD-1"
    rest15 700
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
}

reread() {
    header x-eviction-reread "CREATE_DYNAMIC" "READ-1 READ-7 WRITE-4 FLUSH-1"
    cat <<'HDR'
# Read recency across two rounds of reads.  Fifteen 16 KiB extents fill
# a 256 KiB cache.  Round one reads extents 5 and 6; a 10 KiB write (the
# last free blocks, for VCI) and a flush follow.  Round two reads extents 2 and 6 (the same extent at the
# same place in its round as before: a cache that remembers its reads
# must not take the new read of 6 for the old one); then fourteen 16 KiB
# writes need room.  Evicting what was used least recently gives up
# extents 0, 1, 3, 4, 7 to 14, the 10 KiB write, 5 and then 2, and keeps
# 6, read last, and the newest writes (READ-7).  Every hit must be the
# last data written (READ-1).
create c0 file=c0.cache size=256K -> OK
HDR
    fill15 800
    r "5120K" 16K 805
    r "6144K" 16K 806
    w "20480K" 10K 830
    echo "flush c0 -> OK clause=FLUSH-1"
    r "2048K" 16K 802
    r "6144K" 16K 806
    for j in $(seq 1 14); do
        w "$(((20 + j) * 1024))K" 16K "$((830 + j))"
    done
    r "6144K" 16K 806 " should=hit clause=READ-7"
    for j in $(seq 1 14); do
        r "$(((20 + j) * 1024))K" 16K "$((830 + j))" " should=hit clause=READ-7"
    done
    r "20480K" 10K 830 " clause=READ-1"
    for i in 0 1 2 3 4 5 7 8 9 10 11 12 13 14; do
        r "$((i * 1024))K" 16K "$((800 + i))" " clause=READ-1"
    done
    echo "close c0 -> OK"
}

ring() {
    local n=1100 q=200 base
    base=$((n * 64))
    header x-eviction-many-reads "CREATE_DYNAMIC" "READ-1 READ-7 WRITE-4"
    cat <<HDR
# Read recency over more reads than a small bookkeeping structure holds.
# $n separate 4 KiB extents nearly fill a 4.5 MiB cache and are then
# all read, newest first (so the order of reads is not the order of
# writes); new writes then need room for about 170 extents.  Evicting
# what was used least recently takes the first ones read and keeps the
# last ones read, the oldest written (READ-7): a cache that records only
# so many reads may forget the oldest of them, never the newest, and one
# that applies only some of its recorded reads evicts the extents read
# last.  Every hit must be the last data written (READ-1).
create c0 file=c0.cache size=4608K -> OK
HDR
    for i in $(seq 0 $((n - 1))); do
        w "$((i * 64))K" 4K "$((1000 + i))"
    done
    for i in $(seq $((n - 1)) -1 0); do
        r "$((i * 64))K" 4K "$((1000 + i))"
    done
    for j in $(seq 0 $((q - 1))); do
        w "$((base + j * 64))K" 4K "$((3000 + j))"
    done
    for i in $(seq 0 79); do
        r "$((i * 64))K" 4K "$((1000 + i))" " should=hit clause=READ-7"
    done
    for j in $(seq $((q - 20)) $((q - 1))); do
        r "$((base + j * 64))K" 4K "$((3000 + j))" " should=hit clause=READ-7"
    done
    for i in $(seq 80 7 $((n - 1))); do
        r "$((i * 64))K" 4K "$((1000 + i))" " clause=READ-1"
    done
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
}

reverify() {
    local n=300 k
    header x-reopen-verify "CREATE_DYNAMIC" "CLOSE-3 READ-1 WRITE-4"
    cat <<HDR
# What a clean close kept survives a read-write reopen and its first
# write (CLOSE-3).  $n separate 4 KiB extents make an index of more than
# one level; eight 64 KiB writes follow (a cache may place large data on
# aligned boundaries, leaving free gaps between used space).  After the
# reopen the first write is where a cache that checks its metadata
# before changing it does so (VCI: section 11's first-change proof); an
# image it wrote itself and closed cleanly must pass, so everything is
# still served afterwards.  Every hit is the last data written (READ-1).
create c0 file=c0.cache size=64M -> OK
HDR
    for k in $(seq 0 $((n - 1))); do
        w "$((k * 16))K" 4K "$((4000 + k))"
    done
    for k in $(seq 0 7); do
        w "$((10240 + k * 192))K" 64K "$((4500 + k))"
    done
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
    echo "open c0 file=c0.cache -> OK"
    w "51200K" 4K "4600"
    for k in $(seq 0 $((n - 1))); do
        r "$((k * 16))K" 4K "$((4000 + k))" " should=hit clause=CLOSE-3"
    done
    for k in $(seq 0 7); do
        r "$((10240 + k * 192))K" 64K "$((4500 + k))" " should=hit clause=CLOSE-3"
    done
    r "51200K" 4K "4600" " should=hit clause=READ-1"
    echo "close c0 -> OK"
}

holes() {
    local n=200 k run pos
    header x-reopen-holes "CREATE_DYNAMIC DISCARD" "CLOSE-3 DISCARD-1 READ-1 WRITE-4"
    cat <<HDR
# What a clean close kept survives a read-write reopen and its first
# write (CLOSE-3), after discards left holes in the cache's space: $n
# neighbouring 4 KiB writes, then runs of 8, 9, ... 18 of them discarded,
# one kept between runs.  Free runs of many lengths between used space
# are where a scan of the allocation (VCI: section 11's first-change
# proof skips free stretches quickly) can go wrong by one.  Discarded
# ranges miss (DISCARD-1); everything else is served after the reopen.
create c0 file=c0.cache size=8M -> OK
HDR
    for k in $(seq 0 $((n - 1))); do
        w "$((k * 4))K" 4K "$((5000 + k))"
    done
    pos=1
    for run in $(seq 8 18); do
        echo "discard c0 off=$((pos * 4))K len=$((run * 4))K -> OK clause=DISCARD-1"
        pos=$((pos + run + 1))
    done
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
    echo "open c0 file=c0.cache -> OK"
    w "4096K" 4K "5900"
    pos=1
    r "0" 4K "5000" " should=hit clause=CLOSE-3"
    for run in $(seq 8 18); do
        echo "vdread c0 off=$((pos * 4))K len=$((run * 4))K -> miss clause=DISCARD-1"
        pos=$((pos + run + 1))
        r "$(((pos - 1) * 4))K" 4K "$((5000 + pos - 1))" " should=hit clause=CLOSE-3"
    done
    for k in $(seq "$pos" $((n - 1))); do
        r "$((k * 4))K" 4K "$((5000 + k))" " should=hit clause=CLOSE-3"
    done
    r "4096K" 4K "5900" " should=hit clause=READ-1"
    echo "close c0 -> OK"
}

bridges() {
    local n=1200 k
    header x-tree-bridges "CREATE_DYNAMIC" "READ-1 WRITE-4"
    cat <<HDR
# Gaps filled at the edges of an index's pieces.  $n separate 4 KiB
# writes, 8 KiB apart, make an index of many nodes (VCI: about a dozen
# leaves); then each 4 KiB gap is written, so every new piece ends exactly
# where the next one begins, and some of them where the next index node's
# range begins (VCI: an insert at the end of a leaf, up to the bound its
# parent gives it).  Every pair is read back: each hit is the last data
# written there (READ-1); a cache that refuses or loses such inserts
# fails the write or misses.
create c0 file=c0.cache size=16M -> OK
HDR
    for k in $(seq 0 $((n - 1))); do
        w "$((k * 8))K" 4K "$((6000 + k))"
    done
    for k in $(seq 0 $((n - 2))); do
        w "$((k * 8 + 4))K" 4K "$((8000 + k))"
    done
    for k in $(seq 0 $((n - 2))); do
        echo "vdread c0 off=$((k * 8))K len=8K -> hit|miss data=pattern:$((6000 + k))@$((k * 8))K+4K,pattern:$((8000 + k))@$((k * 8 + 4))K+4K should=hit clause=READ-1"
    done
    echo "close c0 -> OK"
}

node_churn() {
    header x-node-churn "CREATE_DYNAMIC DISCARD" "READ-1 WRITE-2 DISCARD-1"
    cat <<'HDR'
# A cache whose index is many times larger than the part of it kept in
# memory (ref: NodeCacheSize 32, its minimum; the key is passed only to
# backends that declare it): 8,000 separate 512-byte extents, 2 KiB
# apart, written in a shuffled order with a flush every 2,000; reads in
# other shuffled orders; a discard of the third quarter; rewrites; reads
# again after a reopen.  Nearly every call loads an index node and
# writes another back, so a cache that loses track of a node it holds
# (a dirty node read back stale from disk, one written over a newer
# copy) serves wrong data (READ-1) or breaks its format (VCI-1, which
# conform checks after every flush and close).
config NodeCacheSize value="32"
config BitmapCacheSize value="4"
create c0 file=c0.cache size=32M -> OK
HDR
    # Shuffles from a Park-Miller generator seeded with 7: the output is fixed.
    awk 'BEGIN {
        n = 8000; x = 7
        for (i = 0; i < n; i++) { slot[i] = i; pat[i] = 20000 + i }
        shuffle()
        for (k = 0; k < n; k++) {
            s = slot[k]; pat[s] = 20000 + k; w(s)
            if (k % 2000 == 1999) print "flush c0 -> OK"
        }
        shuffle(); for (k = 0; k < 2000; k++) r(slot[k])
        lo = n / 2; hi = lo + n / 4
        printf "discard c0 off=%dK len=%dK -> OK\n", lo * 2, (hi - lo) * 2
        for (i = lo; i < hi; i++) gone[i] = 1
        shuffle(); for (k = 0; k < 1000; k++) { s = slot[k]; pat[s] = 30000 + k; gone[s] = 0; w(s) }
        print "flush c0 -> OK"
        shuffle(); for (k = 0; k < 2000; k++) r(slot[k])
        print "close c0 -> OK"
        print "open c0 file=c0.cache -> OK"
        shuffle(); for (k = 0; k < 2000; k++) r(slot[k])
        print "close c0 -> OK"
    }
    function rnd(m) { x = (x * 16807) % 2147483647; return x % m }
    function shuffle(  i, j, t) {
        for (i = n - 1; i > 0; i--) { j = rnd(i + 1); t = slot[i]; slot[i] = slot[j]; slot[j] = t }
    }
    function w(s) { printf "vdwrite c0 off=%dK len=512 data=pattern:%d -> OK\n", s * 2, pat[s] }
    function r(s) {
        if (gone[s]) printf "vdread c0 off=%dK len=512 -> miss clause=DISCARD-1\n", s * 2
        else printf "vdread c0 off=%dK len=512 -> hit|miss data=pattern:%d clause=READ-1\n", s * 2, pat[s]
    }'
}

split_full() {
    header x-split-full-cache "CREATE_DYNAMIC" "READ-1 READ-7 WRITE-4"
    cat <<'HDR'
# An index that must grow while the cache is full.  108 separate 512-byte
# writes, 1 KiB apart, into a 64 KiB cache: for VCI the first 107 fill
# one leaf and leave 9 blocks free; the 108th takes one for its data and
# needs two index nodes (a split and a new root) where one fits, so the
# oldest write is evicted half-way through reserving them, and the leaf
# no longer needs to split at all.  Every write succeeds (WRITE-4); every
# hit is the last data written (READ-1), before and after a reopen; the
# newest fifty of the first 108 are still there after the one write that
# needed room (READ-7).  32 more writes keep the cache making room.
create c0 file=c0.cache size=64K -> OK
HDR
    for k in $(seq 0 107); do w "${k}K" 512 "$((500 + k))"; done
    echo "flush c0 -> OK"
    for k in $(seq 0 107); do
        if [ "$k" -ge 58 ]; then tail=" should=hit clause=READ-7"; else tail=" clause=READ-1"; fi
        r "${k}K" 512 "$((500 + k))" "$tail"
    done
    for k in $(seq 108 139); do w "${k}K" 512 "$((500 + k))"; done
    echo "flush c0 -> OK"
    echo "close c0 -> OK"
    echo "open c0 file=c0.cache -> OK"
    for k in $(seq 0 139); do r "${k}K" 512 "$((500 + k))" " clause=READ-1"; done
    echo "close c0 -> OK"
}

rekey >"$dir/x-eviction-rekey.trace"
split >"$dir/x-eviction-split.trace"
rekey_ends >"$dir/x-eviction-rekey-ends.trace"
reread >"$dir/x-eviction-reread.trace"
bridges >"$dir/x-tree-bridges.trace"
holes >"$dir/x-reopen-holes.trace"
ring >"$dir/x-eviction-many-reads.trace"
reverify >"$dir/x-reopen-verify.trace"
node_churn >"$dir/x-node-churn.trace"
split_full >"$dir/x-split-full-cache.trace"
