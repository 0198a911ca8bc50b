#!/bin/bash -eu
# .clusterfuzzlite/build.sh - ClusterFuzzLite's build: the same as
# OSS-Fuzz's (fuzz/oss-fuzz/build.sh), with the checkout at $SRC/vdcc.
exec "$SRC/vdcc/fuzz/oss-fuzz/build.sh"
