#!/usr/bin/env bash
# .ci/install-deps --build asks apt for the build-and-run packages only;
# plain .ci/install-deps (scripts/test-all, CI) for those plus every test
# suite's. apt-get and dpkg-query are stand-ins that record the request.
set -euo pipefail
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
cat > "$tmp/bin/dpkg-query" <<'SHIM'
#!/bin/sh
exit 1
SHIM
cat > "$tmp/bin/apt-get" <<'SHIM'
#!/bin/sh
[ "$1" = update ] && exit 0
shift  # install
echo "$@" | tr ' ' '\n' | grep -v '^-' >> "$REQUESTED"
SHIM
printf '#!/bin/sh\nexec "$@"\n' > "$tmp/bin/sudo"
chmod +x "$tmp/bin/"*
fail=0
for mode in --build --all; do
  : > "$tmp/$mode"
  REQUESTED="$tmp/$mode" PATH="$tmp/bin:$PATH" bash "$root/.ci/install-deps" "$mode" 2>/dev/null
done
has() { grep -qx "$2" "$tmp/$1"; }
for p in cmake ninja-build libgrpc++-dev libsqlite3-dev libcli11-dev nlohmann-json3-dev; do
  has --build "$p" || { echo "--build lacks $p"; fail=1; }
  has --all "$p" || { echo "--all lacks $p"; fail=1; }
done
for p in chromium golang-go bazel-bootstrap libgtest-dev clang-14 python3-pytest python3-jinja2 \
         python3-matplotlib; do
  has --build "$p" && { echo "--build installs $p, which only the tests need"; fail=1; }
  has --all "$p" || { echo "--all lacks $p"; fail=1; }
done
echo "--build: $(wc -l < "$tmp/--build") packages; --all: $(wc -l < "$tmp/--all")"
exit $fail
