#!/usr/bin/env python3
"""The soak (Scripts/soak): cluster lives under chaos, SPEC's invariants after every step.

The harness plays the operators: it runs keyturn as they would and, when keyturn fails, does
what keyturn's message and hint say (submit again, cancel and start again, retrieve the backup).
It judges keyturn, not OpenBao: an invariant violation is keyturn's fault (a file it said it wrote
that is missing or does not decrypt, a partial or temporary file left, an exit code SPEC does not
document, a trap, a bound exceeded, a generation it said is in force that does not unseal). What
OpenBao loses on its own (an init or rekey answer lost with the connection, a cluster whose keys
changed with no one holding the new ones) is counted apart, with the evidence kept.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak_cluster import Cluster  # noqa: E402

TIMEOUT = 5  # keyturn's --timeout for every command
ELECTION = 60  # keyturn's election wait
ONE_SHOT = 600  # keyturn's wait for a one-shot answer
FIRST = ["alice", "bob", "carol"]
SECOND = ["dave", "erin", "frank"]
# Phrases of keyturn's error lines, to name outcomes in the table.
KINDS = [
    ("did not count", "answer lost: did not count"), ("counted", "answer lost: counted"),
    ("verification stage", "answer lost: at verification"), ("probably completed", "answer lost: completed"),
    ("no node said", "answer lost: unknown"), ("may now be initialised", "init answer lost"),
    ("did not say whether", "init check unanswered"), ("already running", "already running"),
    ("is running on", "nonce changed"), ("no rekey is running", "not running"),
    ("no generate-root is running", "not running"), ("no verification", "not running"),
    ("failed while it committed the rekey", "rekey commit failed half-way"),
    ("cannot be initialised", "init cut off by a crash"), ("nodes not sealed", "not sealed"),
    ("no active node", "no active node"), ("behind", "node behind"), ("probably restarted", "node behind"),
    ("joins its raft cluster", "node joining"), ("while other nodes are unsealed", "refused: wrong share or missed the rekey"),
    ("refused the shares", "shares refused"),
    ("did not answer", "timeout"), ("unreachable", "unreachable"), ("connection", "connection lost"),
    ("is sealed", "sealed"), ("is not unsealed", "not unsealed"), ("refused", "refused"),
]


class Soak:
    def __init__(self, args):
        self.args = args
        self.keyturn = args.keyturn
        self.bao = args.bao
        self.seed = args.seed
        self.root = args.root or tempfile.mkdtemp(prefix="keyturn-soak.")
        self.evidence = os.path.join(self.root, "evidence")
        self.gnupg = os.path.join(self.root, "gnupg")
        if args.worker is None:
            os.makedirs(self.gnupg, mode=0o700)
            with open(os.path.join(self.gnupg, "gpg-agent.conf"), "w") as f:
                f.write("allow-loopback-pinentry\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        self.env["GNUPGHOME"] = self.gnupg
        self.keys = {name: os.path.join(self.root, name + ".asc") for name in FIRST + SECOND}
        self.cycle_no = -1
        self.steps = []
        self.chaos_rng = random.Random(self.seed)
        self.outcomes = collections.defaultdict(collections.Counter)
        self.violations = []
        self.openbao_losses = []
        self.slowest = (0.0, "")
        self.cluster = None
        self.chaos_on = threading.Event()
        self.chaos_idle = threading.Event()
        self.chaos_idle.set()
        self.faults = collections.Counter()
        self.stop_all = False
        self.lock = threading.Lock()
        self.note = ""  # what keyturn said of the last ambiguous step in this cycle

    # --- set-up -----------------------------------------------------------------------------
    def make_keys(self):
        for name in FIRST + SECOND:
            uid = "%s <%s@soak.invalid>" % (name, name)
            self.gpg(["--passphrase", "", "--quick-gen-key", uid, "future-default", "default", "never"])
            with open(self.keys[name], "wb") as f:
                f.write(self.gpg(["--armor", "--export", uid]).stdout)

    def gpg(self, args, check=True):
        r = subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--yes"] + args, env=self.env,
                           capture_output=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("gpg %s: %s" % (" ".join(args[:2]), r.stderr.decode(errors="replace")[-300:]))
        return r

    # --- running keyturn --------------------------------------------------------------------
    def run(self, step, args, bound, token=None, nodes=None):
        """Runs keyturn against every node (or `nodes`); records the outcome; checks exit code,
        message and bound. Returns (exit status, stdout, stderr)."""
        env = dict(self.env)
        if token:
            env["VAULT_TOKEN"] = token
        addresses = nodes if nodes is not None else self.cluster.addresses
        argv = [self.keyturn] + args + ["--timeout", str(TIMEOUT)] + sum((["-a", a] for a in addresses), [])
        started = time.time()
        try:
            r = subprocess.run(argv, env=env, capture_output=True, timeout=bound + 30, stdin=subprocess.DEVNULL)
            rc, out, err = r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            rc, out, err = -9, (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace")
        took = time.time() - started
        with self.lock:
            if took > self.slowest[0]:
                self.slowest = (took, "%s (cycle %d)" % (step, self.cycle_no))
        kind = "completed" if rc == 0 else "exit %d: %s" % (rc, self.kind(err))
        with self.lock:
            self.outcomes[step][kind] += 1
        last = (err.strip().splitlines() or [""])[-1][:160]
        line = "  [%d] %-24s %5.1f s  %s%s" % (self.cycle_no, step, took, kind, "" if rc == 0 else "  | " + last)
        self.steps.append("%s %s\n%s" % (time.strftime("%H:%M:%S"), line, err))
        if self.args.verbose:
            print(line, flush=True)
        if took > bound:
            self.violate("%s took %.1f s, over its bound of %d s" % (step, took, bound), err)
        if rc < 0 or rc in (132, 133, 134, 135, 136, 139) or "Fatal error" in err or "Stack dump" in err:
            self.violate("%s trapped or was killed (exit %d)" % (step, rc), err)
        elif rc not in (0, 1, 2, 129, 130, 143):
            self.violate("%s exited %d, not a documented code" % (step, rc), err)
        elif rc != 0 and not any(line.startswith("keyturn: error: ") for line in err.splitlines()):
            if args[0] not in ("status", "unseal"):  # they report in a table, with warnings
                self.violate("%s exited %d without an error line" % (step, rc), err)
        return rc, out, err

    @staticmethod
    def kind(err):
        # The error line names it; a table (unseal, status) says it in its warnings.
        line = next((l for l in err.splitlines() if l.startswith("keyturn: error: ")), err)
        for phrase, name in KINDS:
            if phrase in line:
                return name
        return "other"

    def violate(self, what, evidence=""):
        with self.lock:
            self.violations.append("cycle %d: %s" % (self.cycle_no, what))
        self.keep_evidence("violation", what + "\n\n" + evidence)
        print("  VIOLATION: " + what, flush=True)

    def keep_evidence(self, kind, text):
        d = os.path.join(self.evidence, "cycle-%d" % self.cycle_no)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%s-%d.txt" % (kind, len(os.listdir(d)))), "w") as f:
            f.write(text)
        with open(os.path.join(d, "steps.txt"), "w") as f:
            f.write("\n".join(self.steps))
        for n in self.cluster.nodes:
            log = os.path.join(n.dir, "server.log")
            if os.path.exists(log):
                shutil.copy(log, os.path.join(d, n.name + ".log"))

    # --- chaos --------------------------------------------------------------------------------
    def chaos(self):
        while not self.stop_all:
            if not self.chaos_on.wait(0.2):
                continue
            self.chaos_idle.clear()
            try:
                rng = self.chaos_rng
                # Often at once, so that the quick steps (0.1 s) meet faults too.
                time.sleep(0 if rng.random() < 0.5 else rng.uniform(0.05, 2.0))
                if self.chaos_on.is_set():
                    self.one_fault(rng)
            except (OSError, RuntimeError) as e:  # a node that would not restart: heal() tries again
                print("  chaos: %s" % e, flush=True)
            finally:
                self.chaos_idle.set()

    def one_fault(self, rng):
        nodes = self.cluster.nodes
        node = rng.choice(nodes)
        fault = rng.choices(["kill", "pause", "delay", "drop", "cut"], [2, 2, 2, 1, 2])[0]
        down = [n for n in nodes if not n.running or n.paused]
        if fault in ("kill", "pause") and down:
            fault = "delay"  # one node down at a time: the cluster keeps its raft quorum
        self.faults[fault] += 1
        if fault == "kill":
            node.kill()
            time.sleep(rng.uniform(0.5, 4))
            node.start()
        elif fault == "pause":
            node.pause()
            time.sleep(rng.uniform(0.5, 6))
            node.resume()
        else:
            node.proxy.set(fault, rng.uniform(0.5, 3))
            time.sleep(rng.uniform(0.2, 2))
            node.proxy.set("pass")

    def with_chaos(self, body):
        self.chaos_on.set()
        try:
            return body()
        finally:
            self.chaos_on.clear()
            self.chaos_idle.wait(60)
            self.heal()

    def heal(self):
        for n in self.cluster.nodes:
            n.proxy.disarm()
        self.cluster.heal()
        deadline = time.time() + 30
        while time.time() < deadline and not all(n.get("sys/seal-status")[1] for n in self.cluster.nodes):
            time.sleep(0.2)

    def active(self):
        for n in self.cluster.nodes:
            status, body = n.get("sys/leader")
            if status == 200 and body and body.get("is_self"):
                return n
        return None

    def arm_completing_cut(self, rng):
        """Before a completing submit: the active node's proxy cuts the next update's answer,
        sometimes killing the node 0-10 ms after forwarding it (the probe's crash)."""
        node = self.active()
        if node is None or rng.random() > self.args.cut_chance:
            return
        kill = rng.random() < 0.5
        self.faults["cut-completing" + ("+kill" if kill else "")] += 1
        node.proxy.arm_once("/update", kill=(lambda: (time.sleep(rng.uniform(0, 0.01)), node.kill())) if kill else None)

    # --- invariants ---------------------------------------------------------------------------
    def check_files(self, step, directory, holders, token_file=False):
        """The one-shot answer on disk: every share file 0600 and decrypting to a 33-byte share,
        the record there, and no temporary file."""
        for name in os.listdir(directory) if os.path.isdir(directory) else []:
            if name.endswith(".tmp") or name.startswith("."):
                self.violate("%s left %s in %s" % (step, name, directory))
        files = [os.path.join(directory, h + ".asc.key") for h in holders]
        present = [f for f in files if os.path.exists(f)]
        record = os.path.exists(os.path.join(directory, "ceremony.json"))
        if present and (len(present) != len(files) or not record):
            self.violate("%s wrote part of its files: %s, record %s" % (step, present, record))
        for f in present:
            if os.stat(f).st_mode & 0o077:
                self.violate("%s wrote %s readable by others" % (step, f))
            text = self.gpg(["--decrypt", f], check=False).stdout.decode(errors="replace").strip()
            if not re.fullmatch(r"[0-9a-f]{66}", text):
                self.violate("%s wrote %s, which does not decrypt to a share" % (step, f))
        if token_file:
            path = os.path.join(directory, "root-token.asc")
            token = self.gpg(["--decrypt", path], check=False).stdout.decode(errors="replace").strip()
            if not token.startswith("s."):
                self.violate("%s wrote %s, which does not decrypt to a token" % (step, path))
                return None
            status, _ = self.active_or_first().get("auth/token/lookup-self", token)
            if status != 200:
                self.violate("%s's token is refused (HTTP %s)" % (step, status))
            return token
        return bool(present)

    def active_or_first(self):
        return self.active() or self.cluster.nodes[0]

    def unsealed(self):
        return all((n.get("sys/seal-status")[1] or {}).get("sealed") is False for n in self.cluster.nodes)

    def unseal_with(self, step, directory, holders, wait=90, nodes=None):
        """The holders, at once, one pass each (unseal --wait), as the README says."""
        results = []

        def holder(h):
            results.append(self.run(step, ["unseal", "--wait", str(wait), os.path.join(directory, h + ".asc.key")],
                                    bound=wait + 2 * TIMEOUT + 10, nodes=nodes))
        threads = [threading.Thread(target=holder, args=(h,)) for h in holders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def repair(self, generation, nodes=None):
        """After healing: every node (or `nodes`) unsealed with `generation` (dir, holders), as the
        holders would; True when the cluster is whole again."""
        if self.unsealed():
            return True
        directory, holders = generation
        for _ in range(2):
            self.run("repair: unseal --reset", ["unseal", "--reset"], bound=2 * TIMEOUT + 10, nodes=nodes)
            self.unseal_with("repair: unseal", directory, holders[:2], nodes=nodes)
            rc, _, _ = self.run("repair: status --wait", ["status", "--wait", "60"], bound=60 + TIMEOUT + 5)
            if rc == 0:
                return True
            # OpenBao's raft join is not crash-safe either: a follower killed while joining can
            # never join again. keyturn's hint for a node that stays uninitialised names the cure.
            stuck = [n for n in self.cluster.nodes if n.join_cut_off()]
            if not stuck:
                return False
            for n in stuck:
                self.openbao_loss("a follower killed during its raft join could not join again ('cluster already "
                                  "has state'); its raft storage emptied as keyturn's hint says, then it joined")
                n.wipe()
        return False

    # --- the cycle ----------------------------------------------------------------------------
    def cycle(self, i):
        self.cycle_no = i
        self.note = ""
        self.steps = []  # every keyturn command of the cycle and its stderr, for the evidence
        rng = random.Random(self.seed * 104729 + i)
        self.chaos_rng = random.Random(self.seed * 7919 + i)
        d = os.path.join(self.root, "cycle-%d" % i)
        self.cluster = Cluster(self.bao, d, rng)
        self.cluster.start()
        try:
            self.life(i, d, rng)
        finally:
            self.chaos_on.clear()
            self.chaos_idle.wait(60)
            self.cluster.stop()
            if not [v for v in self.violations if v.startswith("cycle %d:" % i)]:
                shutil.rmtree(d, ignore_errors=True)

    def life(self, i, d, rng):
        gen1 = os.path.join(d, "gen1")
        keys = ",".join(self.keys[h] for h in FIRST)
        init = ["init", "--pgp-keys", keys, "--key-threshold", "2", "--root-token-pgp-key", self.keys["alice"],
                "--out-dir", gen1]
        first = [self.cluster.nodes[0].address]
        for attempt in range(4):
            rc, _, err = self.with_chaos(lambda: self.run("init", init, bound=TIMEOUT + ONE_SHOT + 5, nodes=first))
            self.check_files("init", gen1, FIRST)
            if rc == 0:
                break
            if "cannot be initialised" in err:  # OpenBao made its raft storage, then the init died
                self.openbao_loss("init cut off after raft bootstrap left a node that cannot be initialised "
                                  "(emptied as keyturn's hint says, then init again)", err)
                self.cluster.nodes[0].wipe()
                continue
            initialised = (self.cluster.nodes[0].get("sys/seal-status")[1] or {}).get("initialized")
            if initialised:  # the answer went with the connection: keyturn said so (exit 2)
                self.openbao_loss("init answer lost with the connection; keyturn: " + self.kind(err), err)
                return self.ended("init answer lost (keyturn: may now be initialised)")
        else:
            return self.ended("init never completed")
        token = self.decrypt_token(gen1)
        generation = (gen1, FIRST)
        self.generations = [generation]
        self.with_chaos(lambda: self.unseal_with("unseal", gen1, FIRST[:2]))
        if not self.repair(generation):
            self.violate("the cluster does not unseal with the first generation's shares")
            return self.ended("violation")
        generation, token = self.rekey(i, d, rng, generation, token)
        token = self.generate_root(d, rng, generation, token) or token
        # seal, and unseal with the current generation
        self.with_chaos(lambda: self.run("seal", ["seal", "--yes"], bound=ELECTION + 3 * TIMEOUT + 10, token=token))
        self.heal()
        self.with_chaos(lambda: self.unseal_with("unseal (new shares)", generation[0], generation[1][:2]))
        self.ended(self.final_check(generation, token))

    def ended(self, how):
        with self.lock:
            self.outcomes["= the cycle ended"][how] += 1

    def decrypt_token(self, directory):
        text = self.gpg(["--decrypt", os.path.join(directory, "root-token.asc")], check=False).stdout.decode().strip()
        if not text.startswith("s."):
            self.violate("init's root-token.asc does not decrypt to a token")
        return text

    def openbao_loss(self, what, evidence=""):
        with self.lock:
            self.openbao_losses.append("cycle %d: %s" % (self.cycle_no, what))
        self.keep_evidence("openbao-loss", what + "\n\n" + evidence)
        print("  OpenBao lost: " + what, flush=True)

    def final_check(self, generation, token):
        """How the life ended: the generation keyturn's last word put in force must unseal."""
        if self.repair(generation):
            return "whole: the new generation unseals" if generation != self.generations[0] \
                else "whole: first generation still in force"
        sealed = [n.address for n in self.cluster.nodes if (n.get("sys/seal-status")[1] or {}).get("sealed")]
        for other in [g for g in self.generations if g != generation]:
            if not self.repair(other, nodes=sealed):
                continue
            # A raft node down or behind when the rekey completed still has the previous keys and
            # cannot catch up while sealed (OpenBao). Caught up, every node must take the new ones.
            if len(sealed) < len(self.cluster.nodes) and self.caught_up(generation, other, sealed, token):
                return "whole: a node that missed the rekey took the previous shares, then the new ones"
            if self.note:
                self.openbao_loss("the generation keyturn called unproven was never installed (%s)" % self.note)
                return "whole: keyturn's unproven generation was not installed, the other unseals"
            self.violate("keyturn said %s was in force, but %s unseals" % (generation[0], other[0]))
            return "violation"
        if self.note:
            self.openbao_loss("cluster lost: no generation unseals; keyturn said: " + self.note)
            return "lost by OpenBao (keyturn said so)"
        self.violate("cluster lost with no word from keyturn")
        return "violation"

    def caught_up(self, generation, previous, lagging, token):
        """The lagging nodes, unsealed with the previous generation, apply the log (given 10, 20,
        then 40 s: a loaded machine is slow at it); then, sealed, every node takes `generation`."""
        for settle in (10, 20, 40):
            if self.sealed_again(token, settle) and self.repair(generation):
                return True
            self.repair(previous, nodes=lagging)
        return False

    def sealed_again(self, token, settle):
        """Every node a standby or active, `settle` seconds to apply the log, then every node
        sealed (straight to the nodes)."""
        deadline = time.time() + 90
        while time.time() < deadline and not all(n.get("sys/health")[0] in (200, 429) for n in self.cluster.nodes):
            time.sleep(0.5)
        time.sleep(settle)
        deadline = time.time() + 60
        while time.time() < deadline:
            for n in self.cluster.nodes:
                if (n.get("sys/seal-status")[1] or {}).get("sealed") is False:
                    n.put("sys/seal", {}, token)
            if all((n.get("sys/seal-status")[1] or {}).get("sealed") for n in self.cluster.nodes):
                return True
            time.sleep(0.5)
        return False

    # --- rekey --------------------------------------------------------------------------------
    def rekey(self, i, d, rng, generation, token):
        legacy = i % 2 == 0
        backup = (i // 2) % 2 == 1
        no_verify = i % 4 == 3
        api_token = None if legacy else token
        for attempt in range(4):
            out = os.path.join(d, "gen2-%d" % attempt)
            start = ["rekey", "start", "--key-threshold", "2", "--out-dir", out, "--format", "json", "--pgp-keys",
                     ",".join(self.keys[h] for h in SECOND)] + (["--backup"] if backup else [])
            if no_verify:
                start += ["--no-verify", "--snapshot", os.path.join(d, "snapshot-%d" % attempt)]
            rc, stdout, err = self.with_chaos(lambda: self.run("rekey start", start, bound=ELECTION + ONE_SHOT,
                                                                 token=api_token or (token if no_verify else None)))
            if rc != 0:
                if "already running" in err:
                    self.run("rekey cancel", ["rekey", "cancel"], bound=ELECTION + 3 * TIMEOUT, token=api_token)
                self.repair(generation)
                continue
            nonce = json.loads(stdout)["nonce"]
            result = self.rekey_submits(out, nonce, generation, rng, api_token, token, backup)
            self.repair(generation)
            if result == "restart":
                continue
            if result == "lost":  # the old shares no longer count, the new ones are nowhere
                return generation, token
            new = (out, SECOND)
            self.generations.append(new)
            if result == "done" and no_verify:
                return new, token
            if result == "unproven":
                self.note = "backup retrieved after a lost completing answer (unproven)"
                return new, token
            verdict = self.verify(out, rng, api_token)
            if verdict == "lost":
                return generation, token
            self.repair(generation if verdict != "done" else new)
            if verdict == "done":
                return new, token
            if verdict == "unproven":
                self.note = "verification answer lost: probably in force"
                return new, token
        return generation, token

    def rekey_submits(self, out, nonce, generation, rng, api_token, token, backup):
        directory, holders = generation
        for n, h in enumerate(holders[:2]):
            for _ in range(4):
                if n == 1:
                    self.arm_completing_cut(rng)
                submit = ["rekey", "submit", "--yes", "--nonce", nonce, "--out-dir", out,
                          os.path.join(directory, h + ".asc.key")]
                rc, _, err = self.with_chaos(lambda: self.run("rekey submit", submit, bound=ELECTION + ONE_SHOT + 10,
                                                              token=api_token))
                if n == 1:
                    self.check_files("rekey submit", out, SECOND)
                k = self.kind(err)
                if rc == 0 or k == "answer lost: counted":
                    break
                if k == "answer lost: unknown":
                    self.note = "rekey submit: " + k
                if k in ("answer lost: at verification", "not running", "nonce changed") or "required verification" in err:
                    self.run("rekey cancel", ["rekey", "cancel"], bound=ELECTION + 3 * TIMEOUT, token=api_token)
                    return "restart"
                if k == "rekey commit failed half-way":  # OpenBao's; keyturn says what it means
                    self.note = "rekey submit: " + err.strip().splitlines()[0][:200]
                    return "lost"
                if k == "shares refused":  # an earlier rekey whose answer was lost did complete
                    return "lost"
                if k == "answer lost: completed":
                    self.note = "rekey answer lost: " + err.strip().splitlines()[-1][:200]
                    if backup:
                        rc, _, _ = self.run("rekey backup retrieve", ["rekey", "backup", "retrieve", "--out-dir", out],
                                            bound=ELECTION + ONE_SHOT, token=token)
                        self.check_files("rekey backup retrieve", out, SECOND)
                        return "unproven" if rc == 0 else "lost"
                    return "lost"
                self.repair(generation)  # did not count, a timeout, no active node: submit again
            else:
                return "restart"
        return "done" if os.path.exists(os.path.join(out, "ceremony.json")) else "restart"

    def verify(self, out, rng, api_token):
        rc, stdout, err = self.run("rekey status", ["rekey", "status", "--format", "json"],
                                   bound=ELECTION + 3 * TIMEOUT, token=api_token)
        try:
            v = json.loads(stdout).get("verification_nonce") or ""
        except ValueError:
            v = ""
        if not v:
            return "gone"  # the rekey vanished with a leader change: the old shares are in force
        for h in SECOND[:2]:
            for _ in range(4):
                cmd = ["rekey", "verify", "--nonce", v, os.path.join(out, h + ".asc.key")]
                rc, _, err = self.with_chaos(lambda: self.run("rekey verify", cmd, bound=ELECTION + ONE_SHOT + 10,
                                                              token=api_token))
                if rc == 0 or "the share counted" in err:
                    break
                if "probably completed" in err:
                    return "unproven"
                if "failed while it committed the rekey" in err:  # OpenBao's; keyturn says what it means
                    self.note = "rekey verify: " + err.strip().splitlines()[0][:200]
                    return "lost"
                if "not running" in self.kind(err) or "nonce" in self.kind(err):
                    return "gone"
            else:
                return "gone"
        return "done"

    # --- generate-root ------------------------------------------------------------------------
    def generate_root(self, d, rng, generation, token):
        directory, holders = generation
        for attempt in range(3):
            out = os.path.join(d, "token-%d" % attempt)
            rc, stdout, err = self.with_chaos(lambda: self.run(
                "generate-root start", ["generate-root", "start", "--pgp-key", self.keys["alice"], "--format", "json"],
                bound=ELECTION + 3 * TIMEOUT))
            if rc != 0:
                if "already running" in err:
                    self.run("generate-root cancel", ["generate-root", "cancel"], bound=ELECTION + 3 * TIMEOUT)
                self.repair(generation)
                continue
            nonce = json.loads(stdout)["nonce"]
            for n, h in enumerate(holders[:2]):
                if n == 1:
                    self.arm_completing_cut(rng)
                submit = ["generate-root", "submit", "--yes", "--nonce", nonce, "--out-dir", out,
                          os.path.join(directory, h + ".asc.key")]
                rc, _, err = self.with_chaos(lambda: self.run("generate-root submit", submit,
                                                              bound=ELECTION + ONE_SHOT + 10))
                self.repair(generation)
                if rc != 0 and "the share counted" not in err:
                    break
            if rc == 0 and os.path.exists(os.path.join(out, "root-token.asc")):
                return self.check_files("generate-root submit", out, [], token_file=True)
        return None

    # --- the run ------------------------------------------------------------------------------
    def main(self):
        """The whole run: keys, then the cycles (in --jobs worker processes, each with its own
        cluster and chaos), then the table."""
        print("soak: seed %d, %d cycles, %d at a time, in %s" % (
            self.seed, self.args.cycles, self.args.jobs, self.root), flush=True)
        self.make_keys()
        started = time.time()
        workers = []
        try:
            for k in range(self.args.jobs):
                result = os.path.join(self.root, "worker-%d.json" % k)
                argv = [sys.executable, os.path.abspath(__file__), "--worker", str(k), "--root", self.root,
                        "--result", result] + self.passed_on()
                workers.append((subprocess.Popen(argv), result))
            for proc, _ in workers:
                proc.wait()
        finally:
            for proc, _ in workers:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait()
            subprocess.run(["gpgconf", "--kill", "all"], env=self.env, capture_output=True)
        for proc, result in workers:
            if proc.returncode != 0 or not os.path.exists(result):
                self.violations.append("worker ended with exit %s and no result (the harness failed)"
                                       % proc.returncode)
                continue
            self.merge(result)
        self.table(time.time() - started)
        if not self.violations and not self.args.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        elif self.violations:
            print("evidence kept in %s" % self.evidence)
        return 0 if not self.violations else 1

    def passed_on(self):
        a = self.args
        return ["--cycles", str(a.cycles), "--seed", str(self.seed), "--jobs", str(a.jobs), "--cut-chance",
                str(a.cut_chance), "--keyturn", a.keyturn, "--bao", a.bao] + (["--verbose"] if a.verbose else [])

    def work(self):
        """One worker: cycles k, k + jobs, ...; its counts in a JSON file for the table."""
        threading.Thread(target=self.chaos, daemon=True).start()
        try:
            for i in range(self.args.worker, self.args.cycles, self.args.jobs):
                t = time.time()
                self.cycle(i)
                print("cycle %d: %.0f s, %d violations, %d OpenBao losses in this worker so far" % (
                    i, time.time() - t, len(self.violations), len(self.openbao_losses)), flush=True)
        finally:
            self.stop_all = True
            with open(self.args.result, "w") as f:
                json.dump({"outcomes": self.outcomes, "faults": self.faults, "violations": self.violations,
                           "losses": self.openbao_losses, "slowest": self.slowest}, f)
        return 0

    def merge(self, path):
        with open(path) as f:
            r = json.load(f)
        for step, kinds in r["outcomes"].items():
            self.outcomes[step].update(kinds)
        self.faults.update(r["faults"])
        self.violations += r["violations"]
        self.openbao_losses += r["losses"]
        if r["slowest"][0] > self.slowest[0]:
            self.slowest = tuple(r["slowest"])

    def table(self, took):
        print("\nsoak: %d cycles in %.0f s, seed %d (replay: Scripts/soak --cycles %d --seed %d)" % (
            self.args.cycles, took, self.seed, self.args.cycles, self.seed))
        print("faults injected: " + ", ".join("%s %d" % kv for kv in sorted(self.faults.items())))
        print("%-28s %s" % ("STEP", "OUTCOMES"))
        for step in sorted(self.outcomes):
            print("%-28s %s" % (step, ", ".join("%s %d" % kv for kv in self.outcomes[step].most_common())))
        print("slowest step: %.1f s, %s" % self.slowest)
        print("OpenBao losses (counted apart): %d" % len(self.openbao_losses))
        for line in self.openbao_losses:
            print("  " + line)
        print("invariant violations: %d" % len(self.violations))
        for line in self.violations:
            print("  " + line)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--jobs", type=int, default=1, help="cycles run at once, each on its own cluster")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--verbose", action="store_true", help="a line per keyturn command run")
    p.add_argument("--cut-chance", type=float, default=0.3, help="chance a completing submit's answer is cut")
    p.add_argument("--keyturn", required=True)
    p.add_argument("--bao", required=True)
    p.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--root", default=None, help=argparse.SUPPRESS)
    p.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2 ** 31)
    if args.cycles < 1 or args.jobs < 1:
        p.error("--cycles and --jobs must be 1 or more")
    args.jobs = min(args.jobs, args.cycles)
    # SIGTERM (and SIGINT) end the run through its finally blocks: every cluster stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    soak = Soak(args)
    sys.exit(soak.work() if args.worker is not None else soak.main())


if __name__ == "__main__":
    main()
