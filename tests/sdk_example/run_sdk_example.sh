#!/usr/bin/env bash
# Builds plugins/examples/weibull out of tree against the INSTALLED SDK and
# gets it compared with citation by a real adoptiond. Driven by
# tests/sdk_example/CMakeLists.txt; every step says what it does, and a
# failure names the step and shows its log.
set -euo pipefail

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cmake) CMAKE="$2" ;;
    --build-dir) BUILD_DIR="$2" ;;
    --generator) GENERATOR="$2" ;;
    --cxx) CXX_COMPILER="$2" ;;
    --example) EXAMPLE="$2" ;;
    --adoptiond) ADOPTIOND="$2" ;;
    --adoptctl) ADOPTCTL="$2" ;;
    --citation) CITATION="$2" ;;
    --csv) CSV="$2" ;;
    --sanitize) SANITIZE="$2" ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

SANITIZE="${SANITIZE:-}"
# Sanitizer builds run slower: ADOPTION_TEST_TIME_SCALE (default 1) stretches
# the wait for the server.
SCALE="${ADOPTION_TEST_TIME_SCALE:-1}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sdk_example.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $1" >&2
  if [[ $# -gt 1 && -f "$2" ]]; then echo "--- $2:" >&2; tail -n 40 "$2" >&2; fi
  exit 1
}

PREFIX="$WORK/prefix"
echo "== (a) cmake --install $BUILD_DIR --component fitter_sdk --prefix $PREFIX"
"$CMAKE" --install "$BUILD_DIR" --component fitter_sdk --prefix "$PREFIX" \
  > "$WORK/install.log" 2>&1 || fail "installing the SDK" "$WORK/install.log"
for f in include/adoption/fitter_abi.h include/adoption/fitter_sdk.h; do
  [[ -f "$PREFIX/$f" ]] || fail "the install has no $f" "$WORK/install.log"
done
CONFIG="$(find "$PREFIX" -name adoption_fitter_sdkConfig.cmake | head -n 1)"
[[ -n "$CONFIG" ]] || fail "the install has no adoption_fitter_sdkConfig.cmake" "$WORK/install.log"
echo "   installed: $(cd "$PREFIX" && find . -type f | sort | tr '\n' ' ')"

echo "== (b) configure and build $EXAMPLE out of tree against $PREFIX"
# Only the prefix: the example must not see the source tree's headers.
SAN_ARGS=()
if [[ -n "$SANITIZE" ]]; then
  san="-fsanitize=$SANITIZE -fno-omit-frame-pointer"
  [[ "$SANITIZE" == *undefined* ]] && san="$san -fno-sanitize-recover=all"
  SAN_ARGS=(-DCMAKE_CXX_FLAGS="$san" -DCMAKE_MODULE_LINKER_FLAGS="$san")
  echo "   instrumented like the rest of this build: $san"
fi
"$CMAKE" -S "$EXAMPLE" -B "$WORK/example-build" -G "$GENERATOR" \
  -DCMAKE_CXX_COMPILER="$CXX_COMPILER" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" "${SAN_ARGS[@]}" > "$WORK/configure.log" 2>&1 \
  || fail "configuring the example" "$WORK/configure.log"
"$CMAKE" --build "$WORK/example-build" > "$WORK/build.log" 2>&1 \
  || fail "building the example" "$WORK/build.log"
PLUGIN="$WORK/example-build/adoption-fitter-weibull.so"
[[ -f "$PLUGIN" ]] || fail "no $PLUGIN" "$WORK/build.log"
grep -q "^adoption_fitter_sdk_DIR:PATH=$PREFIX/" "$WORK/example-build/CMakeCache.txt" \
  || fail "the example did not find the SDK in $PREFIX" "$WORK/example-build/CMakeCache.txt"
EXPORTED="$(nm -D --defined-only "$PLUGIN" | awk '{print $3}' | grep -v '^$' | sort | tr '\n' ' ')"
[[ "$EXPORTED" == "adoption_fitter_v1 " ]] || fail "exports '$EXPORTED', want only adoption_fitter_v1"

echo "== (c) adoptiond with weibull + citation, load $(basename "$CSV"), compare"
PLUGINS="$WORK/plugins"
mkdir -p "$PLUGINS"
cp "$PLUGIN" "$CITATION" "$PLUGINS/"
"$ADOPTIOND" --listen 127.0.0.1:0 --ready-file "$WORK/ready" --db "$WORK/adoption.db" \
  --plugins "$PLUGINS" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 "$(awk -v s="$SCALE" 'BEGIN { print int(200 * (s < 1 ? 1 : s)) }')"); do
  [[ -s "$WORK/ready" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "adoptiond exited" "$WORK/server.log"
  sleep 0.05
done
[[ -s "$WORK/ready" ]] || fail "adoptiond not ready after 10 s (x$SCALE)" "$WORK/server.log"
ADDRESS="$(head -n 1 "$WORK/ready")"
CTL=("$ADOPTCTL" --server "$ADDRESS" --timeout 120)

"${CTL[@]}" fitters > "$WORK/fitters.txt" 2>&1 || fail "adoptctl fitters" "$WORK/fitters.txt"
grep -q weibull "$WORK/fitters.txt" || fail "weibull is not among the loaded fitters" "$WORK/fitters.txt"
"${CTL[@]}" load-csv "$CSV" > "$WORK/load.txt" 2>&1 || fail "adoptctl load-csv" "$WORK/load.txt"

# Checks a compare CSV: weibull rows exist, most are usable, none failed,
# and citation is there too. $1 = file, $2 = label, $3 = 1 when weibull ran
# with loss=poisson (its n is then the number of monthly increments, month
# 0's included: the number of points, like citation's).
check_csv() {
  python3 - "$1" "$2" "${3:-0}" <<'PY'
import csv, sys
path, label, poisson = sys.argv[1], sys.argv[2], sys.argv[3] == '1'

rows = [r for r in csv.DictReader(l for l in open(path) if l.strip() and not l.startswith('#'))]
if not rows or 'fitter' not in rows[0]:
    sys.exit(f"{label}: no CSV rows with a 'fitter' column")
w = [r for r in rows if r['fitter'] == 'weibull']
c = [r for r in rows if r['fitter'] == 'citation']
series = {r['series_id'] for r in rows}
status = {}
for r in w:
    status[r['status']] = status.get(r['status'], 0) + 1
usable = sum(v for k, v in status.items() if k.lower() in ('converged', 'max_iterations'))
print(f"   {label}: {len(series)} series; weibull rows {len(w)} {status}; citation rows {len(c)}")
errors = []
if len(w) != len(series): errors.append(f"weibull has {len(w)} rows for {len(series)} series")
if len(c) != len(series): errors.append(f"citation has {len(c)} rows for {len(series)} series")
if any(k.lower() == 'failed' for k in status): errors.append("some weibull fits failed")
if usable < 0.5 * len(w): errors.append(f"only {usable} of {len(w)} weibull fits usable")
for r in w:
    if r['status'].lower() in ('converged', 'max_iterations'):
        for key in ('param_K', 'param_s', 'param_a'):
            if key not in r or not r[key]:
                errors.append(f"{r['series_id']}: weibull row without {key}"); break
n_cit = {r['series_id']: r['n'] for r in c if r['status'].lower() in ('converged', 'max_iterations')}
for r in w:
    if r['status'].lower() in ('converged', 'max_iterations') and r['series_id'] in n_cit:
        want = int(n_cit[r['series_id']])  # poisson: every point is an increment
        if int(r['n']) != want:
            errors.append(f"{r['series_id']}: weibull n = {r['n']}, want {want}"); break
if errors: sys.exit(label + ": " + "; ".join(errors[:5]))
PY
}
"${CTL[@]}" compare --all --format csv --fitters citation,weibull > "$WORK/compare.csv" 2> "$WORK/compare.err" \
  || fail "adoptctl compare" "$WORK/compare.err"
check_csv "$WORK/compare.csv" "compare (loss=sse)" || fail "compare output" "$WORK/compare.csv"
# The SDK's count likelihood comes with the example for free.
"${CTL[@]}" compare --all --format csv --fitters citation,weibull \
  --option weibull.loss=poisson > "$WORK/compare_poisson.csv" 2> "$WORK/compare_poisson.err" \
  || fail "adoptctl compare with weibull.loss=poisson" "$WORK/compare_poisson.err"
check_csv "$WORK/compare_poisson.csv" "compare (weibull loss=poisson)" 1 \
  || fail "compare output with loss=poisson" "$WORK/compare_poisson.csv"
echo "== (d) SIGTERM: adoptiond drains and exits 0; no sanitizer report anywhere"
kill -TERM "$SERVER_PID"
code=0
wait "$SERVER_PID" || code=$?
SERVER_PID=""
[[ $code -eq 0 ]] || fail "adoptiond exited with $code after SIGTERM" "$WORK/server.log"
for f in "$WORK"/*.log "$WORK"/*.txt "$WORK"/*.err; do
  [[ -f "$f" ]] || continue
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|SUMMARY: UndefinedBehaviorSanitizer|: runtime error: ' "$f"; then
    fail "sanitizer report in $(basename "$f")" "$f"
  fi
done
echo "PASS: out-of-tree weibull built against the installed SDK and compared by adoptiond"
