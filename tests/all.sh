#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need when it is missing,
# then lint, unit and end-to-end tests, shellcheck of the scripts, and the cgroup-v2 VM lane.
#
# Run as root: the end-to-end tests create real containers. A test that cannot run (not
# root, a tool or kernel feature missing) FAILS, unless you ask for that skip by name in
# GOCKER_SKIP, a comma-separated list of:
#   root            the tests that need root (all end-to-end container tests)
#   tool:NAME       the tests (or parts) that need the program NAME
#   feature:NAME    the tests that need a kernel feature NAME (the message names it)
#   vm              the cgroup-v2 VM lane (GOCKER_SKIP_VM=1 is the same)
#   oci             the OCI lanes (podman drives gocker; the runtime-tools conformance suite)
#   TEST_NAME       whatever that one test lacks (by its function name)
# e.g. as a user: GOCKER_SKIP=root,vm bash tests/all.sh
# An empty GOCKER_PROPTEST_SEED (no property cases) counts as a skip too. Every skip is
# recorded in target/skipped.txt and listed in the closing lines; when anything was
# skipped and CI is set or the suite runs as root, the suite fails instead of passing.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p target
GOCKER_SKIP_LOG=$PWD/target/skipped.txt
export GOCKER_SKIP_LOG
: >"$GOCKER_SKIP_LOG"
if [ "${GOCKER_SKIP_VM:-}" = 1 ]; then
  GOCKER_SKIP=${GOCKER_SKIP:+$GOCKER_SKIP,}vm
fi
export GOCKER_SKIP=${GOCKER_SKIP:-}
skip_asked() { case ",$GOCKER_SKIP," in *",$1,"*) return 0 ;; esac; return 1; }

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
if ! skip_asked vm; then
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-x86)
fi
# The OCI lanes (tests/oci): the engines that drive gocker, runc for the baseline, and Go
# to build the vendored runtime-tools suite.
if ! skip_asked oci; then
  command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)
  command -v ctr >/dev/null 2>&1 || need_pkgs+=(containerd)
  command -v runc >/dev/null 2>&1 || need_pkgs+=(runc)
  command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
  command -v script >/dev/null 2>&1 || need_pkgs+=(util-linux)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "== not root, so not installing: ${need_pkgs[*]} (tests that need them fail unless skipped)"
  fi
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy -- -D warnings"
cargo clippy --all-targets -q -- -D warnings
echo "== cargo test"
cargo test --release
echo "== shellcheck"
mapfile -t scripts < <(ls generated/*.sh tests/*.sh tests/*/*.sh .ci/run 2>/dev/null)
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck -S warning "${scripts[@]}"
  echo "shellcheck: ${#scripts[@]} scripts clean"
elif skip_asked tool:shellcheck; then
  echo "SKIPPED shellcheck of ${#scripts[@]} scripts"
  echo "shellcheck of the scripts (tool:shellcheck): shellcheck not on PATH" >>"$GOCKER_SKIP_LOG"
else
  echo "shellcheck is not on PATH; to skip it, set GOCKER_SKIP=tool:shellcheck" >&2
  exit 1
fi
if skip_asked oci; then
  echo "== SKIPPED the OCI lanes"
  echo "OCI lane: podman (oci): asked to skip" >>"$GOCKER_SKIP_LOG"
  echo "OCI lane: containerd (oci): asked to skip" >>"$GOCKER_SKIP_LOG"
  echo "OCI lane: runtime-tools conformance (oci): asked to skip" >>"$GOCKER_SKIP_LOG"
else
  # One run each, against the release gocker cargo test just built; the runtime-tools
  # build is cached under target/.
  gocker_bin=$(ls -t target/*/release/gocker | head -n1)
  echo "== OCI: podman drives gocker"
  bash tests/oci/podman.sh "$gocker_bin"
  echo "== OCI: containerd drives gocker"
  bash tests/oci/containerd.sh "$gocker_bin"
  # Every program at least at runc's level, but for those tests/oci/conformance-known.txt
  # names with the reason (the run says when one of them has caught up).
  echo "== OCI: the runtime-tools conformance suite against runc's baseline"
  OCI_KNOWN=tests/oci/conformance-known.txt bash tests/oci/conformance.sh "$gocker_bin"
fi
if skip_asked vm; then
  echo "== SKIPPED the cgroup v2 VM lane"
  echo "cgroup v2 VM lane (vm): asked to skip" >>"$GOCKER_SKIP_LOG"
else
  echo "== cgroup v2 VM lane"
  bash tests/vm/run-v2.sh
fi

n=$(grep -c . "$GOCKER_SKIP_LOG" || true)
if [ "$n" -gt 0 ]; then
  echo "== $n skipped (not run):"
  sort "$GOCKER_SKIP_LOG" | sed 's/^/   /'
  if [ -n "${CI:-}" ] || [ "$(id -u)" = 0 ]; then
    echo "== FAILED: $n skipped, and nothing may be skipped in CI or as root" >&2
    exit 1
  fi
  echo "== everything that ran passed; $n skipped (see above)"
  exit 0
fi
echo "== 0 skipped"
echo "== all tests passed"
