#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need when it is missing,
# then lint, unit and end-to-end tests, shellcheck of the scripts, and the cgroup-v2 VM lane.
# Run as root: the end-to-end tests create real containers (in CI they refuse to skip).
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v busybox >/dev/null 2>&1 && busybox --list >/dev/null 2>&1 || need_pkgs+=(busybox-static)
# A dynamically linked busybox cannot run inside a rootfs: insist on the static one.
if command -v busybox >/dev/null 2>&1 && ! file -L "$(command -v busybox)" 2>/dev/null | grep -q static; then
  need_pkgs+=(busybox-static)
fi
command -v shellcheck >/dev/null 2>&1 || need_pkgs+=(shellcheck)
command -v dash >/dev/null 2>&1 || need_pkgs+=(dash)
command -v setpriv >/dev/null 2>&1 || need_pkgs+=(util-linux)
command -v file >/dev/null 2>&1 || need_pkgs+=(file)
if [ -f tests/vm/run-v2.sh ]; then
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-x86)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "== installing: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy -- -D warnings"
cargo clippy --all-targets -q -- -D warnings
echo "== cargo test"
cargo test --release
echo "== shellcheck"
mapfile -t scripts < <(ls generated/*.sh tests/*.sh tests/*/*.sh .ci/run 2>/dev/null)
shellcheck -S warning "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
if [ -f tests/vm/run-v2.sh ] && [ "${GOCKER_SKIP_VM:-}" != 1 ]; then
  echo "== cgroup v2 VM lane"
  bash tests/vm/run-v2.sh
fi
echo "== all tests passed"
