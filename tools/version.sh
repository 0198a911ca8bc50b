#!/bin/sh
# tools/version.sh OUT - writes OUT, a C header defining VDCC_REVISION (the
# source tree's `git describe`; outside a git checkout, e.g. an unpacked
# tarball, the first line of a VERSION file at the root if the tarball has
# one, else "unknown") and VDCC_CONTRACT_VERSION (the "Contract version: N"
# line of spec/contract.md).  OUT is rewritten only when its text changes, so
# ninja (restat) rebuilds nothing when the revision is the same.
set -u
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
rev=unknown
# Only this tree's own repository: a tarball unpacked inside some other
# checkout must not take that checkout's revision.
top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || top=
if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$root" && pwd -P)" ]; then
    rev=$(git -C "$root" describe --tags --always --dirty 2>/dev/null | tr -cd 'A-Za-z0-9._+-') || rev=
    [ -n "$rev" ] || rev=unknown
fi
if [ "$rev" = unknown ] && [ -f "$root/VERSION" ]; then
    rev=$(awk '{ print $1; exit }' "$root/VERSION" | tr -cd 'A-Za-z0-9._+-')
    [ -n "$rev" ] || rev=unknown
fi
contract=$(sed -n 's/^Contract version: *\([0-9][0-9.]*\).*/\1/p' "$root/spec/contract.md" 2>/dev/null | head -n 1)
[ -n "$contract" ] || contract=unknown
text="/* Written by tools/version.sh; do not edit. */
#define VDCC_REVISION \"$rev\"
#define VDCC_CONTRACT_VERSION \"$contract\""
if [ -f "$out" ] && [ "$(cat "$out")" = "$text" ]; then
    exit 0
fi
mkdir -p "$(dirname "$out")"
printf '%s\n' "$text" >"$out.tmp" && mv "$out.tmp" "$out"
