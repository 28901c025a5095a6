#!/usr/bin/env python3
"""Rewrites a signed transcript the way someone who handles it would, with the chain recomputed
(the chain is unkeyed: anyone can), so that only the signatures and the head stand between
the edit and a "good": `tamper_transcript.py OP FILE [ARG]`, gpg from GNUPGHOME.
OP: `edit` (the first event line's result becomes "unsealed"; closing lists follow),
`resign FPR` (every closing line signed again by FPR, its `signer` field left as it was),
`close-fields` (event fields added to the last closing line), `append-unsigned` (an event
and an unsigned closing line appended), `cut-last` (the last command, its lines and its
closing line, cut off the end).
"""
import hashlib, json, subprocess, sys
op, path = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path, encoding="utf-8").read().splitlines()]
enc = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
h = lambda s: hashlib.sha256(s.encode()).hexdigest()
def sign(data, key):
    return subprocess.run(["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "",
        "--local-user", key, "--armor", "--detach-sign"], input=data.encode(), capture_output=True,
        check=True).stdout.decode()
if op == "edit":
    first = next(o for o in lines if "close" not in o)
    first["result"] = "unsealed"
elif op == "close-fields":
    last = [o for o in lines if "close" in o][-1]
    last.update({"command": "unseal", "result": "unsealed", "node": "http://127.0.0.1:1", "progress": "2/2"})
elif op == "append-unsigned":
    lines.append({"command": "unseal", "result": "unsealed", "node": "http://127.0.0.1:1", "time": lines[-1]["time"],
                  "version": "x", "key_fingerprint": next(o for o in lines if "key_fingerprint" in o)["key_fingerprint"]})
    lines.append({"close": "unseal", "time": lines[-1]["time"], "version": "x", "line_sha256": [],
                  "unsigned": "no operator key"})
elif op == "cut-last":
    closes = [i for i, o in enumerate(lines) if "close" in o]
    start = closes[-2] + 1 if len(closes) > 1 else 0
    lines = lines[:start]
# The chain and the closing lists, recomputed in order; a closing line lists the lines of
# its command (those since the previous closing line).
out, pending = [], []
for o in lines:
    o["prev"] = h(out[-1]) if out else ""
    if "close" in o:
        o["line_sha256"] = [h(l) for l in pending]
        if op == "resign":
            o["signature"] = sign("".join(l + "\n" for l in pending), sys.argv[3])
    if "close" in o:
        pending = []
        o["prev"] = h(out[-1]) if out else ""
    text = enc(o)
    if "close" not in o:
        pending.append(text)
    out.append(text)
open(path, "w", encoding="utf-8").write("".join(l + "\n" for l in out))
