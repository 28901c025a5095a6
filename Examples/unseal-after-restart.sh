#!/usr/bin/env bash
# Runbook: after a restart, each operator runs this with their own share file.
#   VAULT_ADDR=https://vault1:8200,https://vault2:8200,https://vault3:8200 \
#   VAULT_CACERT=/etc/keyturn/ca.pem ./unseal-after-restart.sh ~/alice.asc.key [WAIT_SECONDS]
# It shows the cluster, turns this operator's key on every sealed node (gpg-agent asks for the
# passphrase), and waits up to WAIT_SECONDS (default 120) for every node to be unsealed.
# Exit 0: all unsealed. 2: still sealed (more operators needed) or a node refused. 1: bad input
# or a node unreachable.
set -uo pipefail
keyfile=${1:?usage: unseal-after-restart.sh KEYFILE [WAIT_SECONDS]}
wait_seconds=${2:-120}
keyturn=${KEYTURN:-keyturn}

if "$keyturn" status >/dev/null 2>&1; then
  echo "every node is already unsealed"
  exit 0
fi
"$keyturn" status || true
"$keyturn" unseal "$keyfile"
rc=$?
if [ "$rc" = 1 ]; then exit 1; fi
"$keyturn" status --wait "$wait_seconds"
