#!/usr/bin/python3
"""The expected values of test/unit/rng.test.ts (its PY table), from an independent implementation.

    /usr/bin/python3 test/unit/gen_rng.py     # prints the table as JSON; rng.test.ts runs it and compares

engine/rng.ts's algorithm, written again from its header comment with Python's big integers (no code
shared, no fixed-width tricks): splitmix64 fills xoshiro128**'s state from the seed, fork() derives a
new key from the seed's key and a label, float() takes 53 bits from two draws, int(n) rejects the
2^32 mod n low draws, shuffle() is Durstenfeld's Fisher-Yates from the end. Any change to rng.ts that
alters a number here changes every saved project's shuffles. Plain Python 3, no numpy or torch needed.
"""
import json

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
GOLDEN = 0x9E3779B97F4A7C15
STRING_TAG = 0x5851F42D4C957F2D


def mix64(x):
    """splitmix64's finaliser."""
    z = x & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode('utf-8'):
        h = ((h ^ byte) * 0x100000001B3) & M64
    return h


def rotl32(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed=None, key=None):
        # key = seed mod 2^64 (two's complement for negative seeds)
        self.key = (seed % (1 << 64)) if key is None else key
        a = mix64(self.key + GOLDEN)
        b = mix64(self.key + 2 * GOLDEN)
        self.s = [a & M32, a >> 32, b & M32, b >> 32]
        if self.s == [0, 0, 0, 0]:
            self.s[0] = 1

    def next_u32(self):
        s = self.s
        result = (rotl32((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl32(s[3], 11)
        return result

    def float(self):
        hi = self.next_u32() >> 5
        lo = self.next_u32() >> 6
        return (hi * (1 << 26) + lo) / float(1 << 53)

    def int(self, n):
        threshold = (1 << 32) % n
        while True:
            r = self.next_u32()
            if r >= threshold:
                return r % n

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a

    def fork(self, label):
        if isinstance(label, int):
            word = mix64((label % (1 << 64)) + GOLDEN)
        else:
            word = mix64(fnv1a64(label) ^ STRING_TAG)
        return Rng(key=mix64(self.key ^ word))


def draws(rng, n):
    return [rng.next_u32() for _ in range(n)]


def table():
    f7, i7, b7 = Rng(7), Rng(7), Rng(7)
    return {
        'seed0': draws(Rng(0), 6),
        'seed42': draws(Rng(42), 6),
        'seedm1': draws(Rng(-1), 3),
        'seedmax': draws(Rng(2 ** 53 - 1), 3),
        'float7': [f7.float() for _ in range(4)],
        'int7_10': [i7.int(10) for _ in range(12)],
        'int7_big': [b7.int(3_000_000_000) for _ in range(6)],
        'shuffle11': Rng(11).shuffle(list(range(10))),
        'fork5_3': draws(Rng(5).fork(3), 3),
        'fork5_dropout': draws(Rng(5).fork('dropout'), 3),
        'fork5_h_0': draws(Rng(5).fork('héllo').fork(0), 3),
        'epoch1': Rng(20261127).fork(1).shuffle(list(range(20))),
    }


if __name__ == '__main__':
    # floats are written with repr (shortest round trip): JSON.parse gets the exact doubles
    print(json.dumps(table()))
