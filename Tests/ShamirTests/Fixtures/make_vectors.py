#!/usr/bin/env python3
"""Independent reference for keyturn's fixed Shamir vectors.

A slow, obvious implementation of Vault-format Shamir (GF(2^8), polynomial 0x11b, share =
y-bytes then x) driven by the same SplitMix64 byte stream as the Swift tests' SeededRandom,
consuming random bytes in the same order: x-coordinates first (Fisher-Yates over 1..255,
rejection-sampled, bytes drawn 256 at a time), then all coefficients in one draw, coefficient
m of byte i at (m-1)*len + i. Run it to regenerate vectors.json; the Swift tests check that
keyturn reproduces every vector and that every threshold-subset recombines.
"""
import json
import os

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed
        self.pending = []

    def word(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def fill(self, n):
        out = []
        for _ in range(n):
            if not self.pending:
                self.pending = list(self.word().to_bytes(8, "little"))
            out.append(self.pending.pop(0))
        return out


def gf_mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return r


def coordinates(rng, count):
    pool = list(range(1, 256))
    buf, used = [], 256
    for i in range(count):
        rng_range = 255 - i
        limit = 256 - 256 % rng_range
        while True:
            if used == 256:
                buf, used = rng.fill(256), 0
            r = buf[used]
            used += 1
            if r < limit:
                break
        j = i + r % rng_range
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]


def split(secret, n, k, seed):
    rng = SplitMix64(seed)
    xs = coordinates(rng, n)
    coeffs = rng.fill((k - 1) * len(secret))
    shares = []
    for x in xs:
        ys = []
        for i, s in enumerate(secret):
            # evaluate s + c1 x + c2 x^2 ... directly, not by Horner
            y, power = s, 1
            for m in range(1, k):
                power = gf_mul(power, x)
                y ^= gf_mul(coeffs[(m - 1) * len(secret) + i], power)
            ys.append(y)
        shares.append(bytes(ys + [x]).hex())
    return shares


CASES = [
    ("00", 2, 2, 1),
    ("ff", 3, 2, 2),
    ("6b65797475726e", 5, 3, 3),
    ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 5, 3, 42),
    ("a5" * 33, 7, 7, 7),
    ("deadbeef" * 40, 10, 4, 2024),
    ("01", 255, 2, 99),
    ("c0ffee", 255, 255, 1234),
]

if __name__ == "__main__":
    vectors = [
        {"secret": s, "shares": n, "threshold": k, "seed": seed,
         "output": split(bytes.fromhex(s), n, k, seed)}
        for s, n, k, seed in CASES
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    with open(path, "w") as f:
        json.dump(vectors, f, indent=1)
        f.write("\n")
