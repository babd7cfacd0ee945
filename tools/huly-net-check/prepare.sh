#!/bin/bash
# Copies huly.net's jest specs and examples into a work folder outside the repository
# (HULYNET_CHECK_DIR, /tmp/hulynet-check), changing only their import lines: huly.net's
# own packages become @huly/network/compat. huly.net's code is never written into this
# repository. Usage: prepare.sh [huly.net source folder]
set -e
TOOL=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$TOOL/../.." && pwd)
WORK=${HULYNET_CHECK_DIR:-/tmp/hulynet-check}
SRC=${1:-$WORK/src}
COMPAT="$ROOT/compat/mod.ts"
# huly.net's files come from the mirror the fetch tool made (github:hcengineering/huly.net).
MIRROR=${HULYNET_MIRROR:-/work/.mirror/hcengineering+huly.net/repo}
if [ ! -d "$SRC/packages" ]; then
  mkdir -p "$SRC" && git --git-dir="$MIRROR" archive HEAD | tar -x -C "$SRC"
fi
rm -rf "$WORK/specs" "$WORK/examples"
mkdir -p "$WORK/specs" "$WORK/examples"
rewrite() { # the only edit: module specifiers of huly.net's packages and relative package modules
  sed -E "s#from '(\.\./[^']*|@hcengineering/network-[a-z]+)'#from '$COMPAT'#" "$1"
}
for f in "$SRC"/packages/*/src/__test*__/*.ts; do
  pkg=$(echo "$f" | sed -E 's#.*/packages/([^/]+)/.*#\1#')
  mkdir -p "$WORK/specs/$pkg"
  name=$(basename "$f")
  case "$name" in
    *.spec.ts | *.test.ts) { echo "import '$TOOL/shim.ts'"; rewrite "$f"; } >"$WORK/specs/$pkg/$name" ;;
    *) rewrite "$f" >"$WORK/specs/$pkg/$name" ;; # helpers (dummySession.ts ...)
  esac
done
for f in "$SRC"/examples/*.ts; do rewrite "$f" >"$WORK/examples/$(basename "$f")"; done
echo "prepared in $WORK: $(ls "$WORK"/specs/*/*.ts | wc -l) spec files, $(ls "$WORK"/examples/*.ts | wc -l) examples"
