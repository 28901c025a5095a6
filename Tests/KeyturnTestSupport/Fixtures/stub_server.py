#!/usr/bin/env python3
"""A misbehaving HTTP server for faults a real Vault cannot produce.

Usage: stub_server.py MODE. Listens on a free loopback port, prints it on stdout, and serves
every connection according to MODE until killed:
  garbage   a 200 reply whose body is not JSON
  shape     a 200 JSON reply without the fields Vault sends
  silent    accepts the connection and never answers (with argv[2], appends "TIME REQUEST-LINE"
            to that file first, so a test can count what was asked, and when)
  truncate  sends headers promising 1000 bytes, 10 bytes of body, then closes
  redirect  a 307 to another host
  error     a 500 with Vault's {"errors": [...]} body
  cut-init  like init, but the connection is closed without a reply once PUT sys/init arrived
  slow-init like init, but the reply to PUT sys/init is held until the file argv[3] exists (at
            most 900 s; its body is written to argv[2] at once), so a test can act meanwhile;
            when argv[3] is a number, for that many seconds instead
  delay-proxy  forwards every request to the real node at argv[2] (host:port) and holds the
            reply to PUT sys/init for argv[3] seconds (a slow HSM or cloud-KMS seal, a loaded disk)
  cut-proxy forwards every request to the real node at argv[2] (host:port), but closes the
            connection without a reply to each request whose "METHOD PATH" contains argv[3], once
            the node answered it (a node killed, a connection cut, after the server acted)
  drop-proxy  like cut-proxy, but such a request is never forwarded (cut before the server saw it)
  fail-proxy  like cut-proxy, but such a request is answered, without being forwarded, with the
            500 OpenBao 2.7.2 gave when its rekey commit lost leadership half-way (seen by the soak)
  vault2-proxy  forwards every request to the real node at argv[2] (host:port) as HashiCorp Vault
            2.0 would serve it: no OpenBao token API (sys/rotate/*, sys/generate-root-token/* are
            404), and sys/rekey/*, sys/generate-root/* refused (403) without X-Vault-Token
  mangle-proxy  like cut-proxy, but such a request's answer comes back with a field of the wrong type
            (its "nonce" 7 and "id" 12345, in "data" when wrapped): the request was acted on, the answer
            cannot be read
  hostile   a sealed node (3 of 5) whose answer to PUT sys/unseal has t = Int.min (argv[2]: the
            file the request body is written to)
  error-escape  a 500 whose error message holds terminal escapes (OSC 52, ESC, BEL, CR) and a
            newline followed by a forged keyturn line
  init-same like init, but its answer to PUT sys/init holds the same share three times (and an
            empty fourth)
  forged-row  a 200 seal-status (and health, leader) whose version holds a newline and a fake
            node row after it
  old-agent  not HTTP: a gpg-agent left running across an upgrade, on the Unix socket argv[2]
            (GNUPGHOME/S.gpg-agent): it answers the Assuan protocol, GETINFO version with argv[3],
            every other command OK; with argv[3] "silent", it accepts and never answers; with
            "full", it never accepts and its backlog is full (prints 0 for the port)
  init      an uninitialised Vault's sys/init: GET says not initialised; PUT writes the
            request body to the file named by argv[2] and answers with a fake init reply;
            sys/seal-status says sealed (3 of 5), and PUT sys/unseal records its body likewise
"""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time

MODE = sys.argv[1]


def reply(conn):
    conn.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    if MODE in ("delay-proxy", "cut-proxy", "drop-proxy", "fail-proxy", "vault2-proxy", "mangle-proxy"):
        head_text, _, rest = data.partition(b"\r\n\r\n")
        lines = head_text.split(b"\r\n")
        method, path, _ = lines[0].decode().split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.decode().partition(":")
            headers[name.strip()] = value.strip()
        length = int(headers.get("Content-Length", headers.get("content-length", "0")))
        while len(rest) < length:
            rest += conn.recv(4096)
        if MODE == "vault2-proxy":
            refusal = None
            if "/sys/rotate/" in path or "/sys/generate-root-token/" in path:
                refusal = (404, "Not Found", "unsupported path")
            elif ("/sys/rekey" in path or "/sys/generate-root/" in path) and not any(
                    k.lower() == "x-vault-token" and v for k, v in headers.items()):
                refusal = (403, "Forbidden", "permission denied")
            if refusal:
                body = json.dumps({"errors": [refusal[2]]}).encode()
                conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n" % (refusal[0], refusal[1].encode(), len(body)) + body)
                return
        matches = MODE not in ("delay-proxy", "vault2-proxy") and sys.argv[3] in "%s %s" % (method, path)
        if MODE == "drop-proxy" and matches:
            return  # the request never reaches the node; the connection closes unanswered
        if MODE == "fail-proxy" and matches:
            body = json.dumps({"errors": ["failed to perform rekey: failed to store keys: failed to write keys "
                                          "to storage: leadership lost while committing log"]}).encode()
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            return
        host, port = sys.argv[2].rsplit(":", 1)
        upstream = http.client.HTTPConnection(host, int(port), timeout=120)
        headers.pop("Host", None)
        upstream.request(method, path, body=rest or None, headers=headers)
        answer = upstream.getresponse()
        body = answer.read()
        if MODE == "cut-proxy" and matches:
            return  # the node acted on the request; its answer is lost
        if MODE == "mangle-proxy" and matches:
            doc = json.loads(body)
            target = doc["data"] if isinstance(doc.get("data"), dict) else doc
            target["nonce"], target["id"] = 7, 12345
            body = json.dumps(doc).encode()
        if MODE == "delay-proxy" and method == "PUT" and path.rstrip("/").endswith("sys/init"):
            time.sleep(float(sys.argv[3]))
        conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % (answer.status, answer.reason.encode(), len(body)) + body)
        return
    if MODE == "silent":
        if len(sys.argv) > 2:
            with open(sys.argv[2], "a") as f:
                f.write("%.3f %s\n" % (time.time(), data.split(b"\r\n")[0].decode()))
        time.sleep(60)
        return
    if MODE in ("init", "cut-init", "slow-init", "hostile", "init-same"):
        head_text, _, rest = data.partition(b"\r\n\r\n")
        request_line = head_text.split(b"\r\n")[0].decode()
        length = 0
        for line in head_text.split(b"\r\n")[1:]:
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(rest) < length:
            rest += conn.recv(4096)
        if "seal-status" in request_line:
            body = json.dumps({"type": "shamir", "initialized": True, "sealed": True, "t": 3, "n": 5,
                               "progress": 0, "nonce": "", "version": "stub"}).encode()
        elif request_line.startswith("PUT") and "sys/unseal" in request_line:
            with open(sys.argv[2], "wb") as f:
                f.write(rest)
            t = -2 ** 63 if MODE == "hostile" else 3
            body = json.dumps({"type": "shamir", "initialized": True, "sealed": True, "t": t, "n": 5,
                               "progress": 1, "nonce": "n-1", "version": "stub"}).encode()
        elif request_line.startswith("PUT"):
            with open(sys.argv[2], "wb") as f:
                f.write(rest)
            if MODE == "cut-init":
                return  # the request arrived; the reply never does
            if MODE == "slow-init":
                try:
                    time.sleep(float(sys.argv[3]))
                except ValueError:
                    deadline = time.time() + 900  # the test may be slow to release it under load
                    while not os.path.exists(sys.argv[3]) and time.time() < deadline:
                        time.sleep(0.05)
            keys = ["ab" * 33] * 3 + [""] if MODE == "init-same" else ["00" * 32]
            body = json.dumps({"keys": keys, "keys_base64": ["AA" * 22], "root_token": "s.stub",
                               "recovery_keys": ["11" * 33, "22" * 33], "recovery_keys_base64": ["ESE=", "IiI="]}).encode()
        else:
            body = b'{"initialized": false}'
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        return
    if MODE == "garbage":
        body = b"<html>this is not json</html>"
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
    elif MODE == "shape":
        body = b'{"hello": "world"}'
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    elif MODE == "truncate":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sealed\":")
        return
    elif MODE == "redirect":
        body = b""
        head = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://192.0.2.1:8200/v1/sys/seal-status\r\n"
    elif MODE == "forged-row":
        body = json.dumps({"type": "shamir", "initialized": True, "sealed": True, "t": 2, "n": 3, "progress": 0,
                           "nonce": "", "version": "2.7.2\nhttp://127.0.0.1:8201  true         false"}).encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    elif MODE == "error-escape":
        said = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\rhidden\nkeyturn: transcript signed by ALICE: good"
        body = json.dumps({"errors": [said]}).encode()
        head = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
    elif MODE == "error":
        body = b'{"errors":["internal error: the stub says no"]}'
        head = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
    else:
        raise SystemExit("unknown mode " + MODE)
    conn.sendall(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def serve(conn):
    try:
        reply(conn)
    except OSError:
        pass
    finally:
        conn.close()


def old_agent(conn):
    """One Assuan client of the old-agent mode."""
    with conn:
        if sys.argv[3] == "silent":
            while conn.recv(4096):
                pass
            return
        conn.sendall(b"OK Pleased to meet you\n")
        buffer = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip() == b"GETINFO version":
                    conn.sendall(b"D " + sys.argv[3].encode() + b"\n")
                if line.strip() == b"BYE":
                    conn.sendall(b"OK closing connection\n")
                    return
                conn.sendall(b"OK\n")


def main():
    # A parent may have left SIGTERM blocked (the mask is inherited across exec): unblock it,
    # so that the test can stop this server.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if MODE == "old-agent":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(sys.argv[2])
        if sys.argv[3] == "full":
            listener.listen(0)
            queued = []
            for _ in range(4):
                client = socket.socket(socket.AF_UNIX)
                client.setblocking(False)
                try:
                    client.connect(sys.argv[2])
                except OSError:
                    pass
                queued.append(client)
            print(0, flush=True)
            while True:
                time.sleep(60)
        listener.listen(16)
        print(0, flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=old_agent, args=(conn,), daemon=True).start()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
