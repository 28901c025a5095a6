"""A three-node OpenBao raft cluster on loopback for the soak, each node behind a fault proxy.

Nodes are real `bao server` processes (raft storage, loopback ports picked here) that the soak
kills (SIGKILL), pauses (SIGSTOP/SIGCONT) and restarts. Every client request goes through the
node's proxy, which the chaos loop sets to pass, delay, drop (close before forwarding) or cut
(forward the request, then close before the reply: the server acted, the answer is lost).
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """Forwards HTTP/1.1 requests to one node, one request per connection, with a fault mode."""

    def __init__(self, upstream_port, rng):
        self.upstream_port = upstream_port
        self.rng = rng
        self.mode = ("pass", 0.0)  # ("pass"|"delay"|"drop"|"cut", seconds of delay)
        self.faults = {"delay": 0, "drop": 0, "cut": 0}
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        self.armed = None  # (pattern, kill): the next PUT whose path holds pattern is cut
        threading.Thread(target=self._accept, daemon=True).start()

    def set(self, mode, seconds=0.0):
        with self.lock:
            self.mode = (mode, seconds)

    def arm_once(self, pattern, kill=None):
        """The next PUT whose path holds `pattern` reaches the node, and its answer never comes
        back; with `kill`, that is called as soon as the request is sent (the node dies while
        it commits), instead of waiting for the answer."""
        with self.lock:
            self.armed = (pattern, kill)

    def disarm(self):
        with self.lock:
            self.armed = None

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self._relay(conn)
        except (OSError, http.client.HTTPException, ValueError):
            pass
        finally:
            conn.close()

    def _relay(self, conn):
        conn.settimeout(700)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method, path, _ = lines[0].decode().split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.decode().partition(":")
            headers[name.strip()] = value.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
        with self.lock:
            mode, seconds = self.mode
            armed = self.armed
            if armed and method == "PUT" and armed[0] in path:
                self.armed = None
                mode = "armed"
            elif mode != "pass":
                self.faults[mode] += 1
        if mode == "armed":
            upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=700)
            headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            upstream.request(method, path, body=body or None, headers=headers)
            if armed[1] is not None:
                armed[1]()
            else:
                upstream.getresponse().read()
            upstream.close()
            return
        if mode == "drop":
            return
        if mode == "delay":
            time.sleep(seconds)
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=700)
        headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(method, path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        reply = answer.read()
        upstream.close()
        if mode == "cut":
            return
        extra = "".join("%s: %s\r\n" % (k, v) for k, v in answer.getheaders()
                        if k.lower() not in ("content-length", "connection", "transfer-encoding"))
        conn.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % (answer.status, answer.reason, extra, len(reply))).encode() + reply)


class Node:
    def __init__(self, bao, root, index, rng):
        self.bao = bao
        self.index = index
        self.name = "n%d" % (index + 1)
        self.dir = os.path.join(root, self.name)
        os.makedirs(os.path.join(self.dir, "raft"), exist_ok=True)
        self.port = free_port()
        self.cluster_port = free_port()
        self.proc = None
        self.paused = False
        self.proxy = Proxy(self.port, rng)

    @property
    def direct(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def address(self):
        """What keyturn is given: the proxy."""
        return "http://127.0.0.1:%d" % self.proxy.port

    def configure(self, peers):
        joins = "".join('  retry_join {\n    leader_api_addr = "%s"\n  }\n' % p.direct for p in peers if p is not self)
        with open(os.path.join(self.dir, "config.hcl"), "w") as f:
            f.write("""storage "raft" {
  path = "%s"
  node_id = "%s"
%s}
listener "tcp" {
  address = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable = true
  disable_unauthed_rekey_endpoints = false
  disable_unauthed_generate_root_endpoints = false
}
api_addr = "http://127.0.0.1:%d"
cluster_addr = "https://127.0.0.1:%d"
disable_mlock = true
ui = false
""" % (os.path.join(self.dir, "raft"), self.name, joins, self.port, self.cluster_port, self.port,
                self.cluster_port))

    def start(self):
        if self.running:
            return
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [self.bao, "server", "-config=" + os.path.join(self.dir, "config.hcl")],
            stdout=log, stderr=log, env={"HOME": self.dir, "PATH": "/usr/bin:/bin"}, start_new_session=True)
        self.paused = False
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start" % self.name)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not listen within 30 s" % self.name)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None:
            if self.paused:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
        self.paused = False

    def wipe(self):
        """What keyturn's hint says for a node an init cut off: stopped, raft storage emptied, started."""
        self.kill()
        shutil.rmtree(os.path.join(self.dir, "raft"), ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "raft"))
        self.start()

    def join_cut_off(self):
        """A follower whose raft join a kill cut off: it says it is not initialised (or does not
        answer) and every join since its last start ends in 'cluster already has state'."""
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 20000))
                tail = f.read().decode(errors="replace")
        except OSError:
            return False
        tail = tail.split("OpenBao server started")[-1]
        initialised = (self.get("sys/seal-status")[1] or {}).get("initialized")
        return initialised is not True and "cluster already has state" in tail

    def pause(self):
        if self.running and not self.paused:
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.running and self.paused:
            self.proc.send_signal(signal.SIGCONT)
            self.paused = False

    def get(self, path, token=None, timeout=3):
        """GET straight to the node (not through the proxy); (status, JSON or None)."""
        return self.call(urllib.request.Request(self.direct + "/v1/" + path), token, timeout)

    def put(self, path, body, token=None, timeout=5):
        """PUT straight to the node; (status, JSON or None)."""
        data = json.dumps(body).encode()
        return self.call(urllib.request.Request(self.direct + "/v1/" + path, data=data, method="PUT"), token, timeout)

    @staticmethod
    def call(req, token, timeout):
        if token:
            req.add_header("X-Vault-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read() or b"null")
            except ValueError:
                return e.code, None
        except (OSError, ValueError):
            return None, None


class Cluster:
    def __init__(self, bao, root, rng, size=3):
        self.nodes = [Node(bao, root, i, rng) for i in range(size)]
        for n in self.nodes:
            n.configure(self.nodes)

    def start(self):
        for n in self.nodes:
            n.start()

    def stop(self):
        for n in self.nodes:
            n.kill()
            n.proxy.close()

    @property
    def addresses(self):
        return [n.address for n in self.nodes]

    def heal(self):
        """Every node running, none paused, every proxy passing."""
        for n in self.nodes:
            n.proxy.set("pass")
            n.resume()
            if not n.running:
                n.start()

    def seal_states(self):
        return {n.name: n.get("sys/seal-status")[1] for n in self.nodes}
