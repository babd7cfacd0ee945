#!/bin/bash
# Runs the prepared huly.net specs (and examples with `run.sh examples`) under Deno against compat.
# Results: results/<pkg>__<file>.xml (JUnit) + .log; summary on stdout.
TOOL=$(cd "$(dirname "$0")" && pwd)
CONFIG="$TOOL/../../deno.json"
cd "${HULYNET_CHECK_DIR:-/tmp/hulynet-check}"
DENO="npx -y deno@2.9.6"
mkdir -p results
if [ "$1" = examples ]; then
  shift
  for f in ${@:-examples/*.ts}; do
    n=$(basename "$f" .ts)
    start=$(date +%s.%N)
    timeout -k 5 ${EXAMPLE_TIMEOUT:-60} $DENO run -A --no-check --no-lock --unstable-sloppy-imports --config "$CONFIG" "$f" > "results/example_$n.log" 2>&1
    rc=$?
    t=$(echo "$(date +%s.%N) - $start" | bc)
    echo "example $n: exit $rc in ${t}s"
  done
  exit 0
fi
files=${@:-specs/*/*.spec.ts specs/*/*.test.ts}
for f in $files; do
  pkg=$(basename "$(dirname "$f")"); n=$(basename "$f" .ts)
  out="results/${pkg}__$n"
  timeout -k 5 ${SPEC_TIMEOUT:-600} $DENO test -A --no-check --no-lock --unstable-sloppy-imports --config "$CONFIG" --junit-path="$out.xml" "$f" > "$out.log" 2>&1
  rc=$?
  python3 - "$out.xml" "$pkg/$n" "$rc" <<'PY'
import sys, xml.etree.ElementTree as ET
path, name, rc = sys.argv[1:]
try:
    root = ET.parse(path).getroot()
except Exception as e:
    print(f"{name}: no results (exit {rc}): {e}"); sys.exit()
cases = root.iter('testcase')
ok = fail = 0; failed = []
for c in cases:
    if c.find('skipped') is not None: continue
    if c.find('failure') is not None or c.find('error') is not None:
        fail += 1; failed.append(c.get('name'))
    else: ok += 1
print(f"{name}: {ok}/{ok+fail} pass (exit {rc})")
for n in failed: print(f"   FAIL {n}")
PY
done
