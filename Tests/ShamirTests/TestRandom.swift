import Shamir

/// A deterministic byte stream for tests: SplitMix64 words, little-endian, consumed
/// continuously across calls (Fixtures/make_vectors.py produces the same stream).
final class SeededRandom: RandomSource {
    private var state: UInt64
    private var pending: [UInt8] = []

    init(seed: UInt64) { state = seed }

    private func nextWord() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        for i in 0..<buffer.count {
            if pending.isEmpty {
                var w = nextWord()
                pending = (0..<8).map { _ in
                    defer { w >>= 8 }; return UInt8(truncatingIfNeeded: w)
                }.reversed()
            }
            buffer[i] = pending.removeLast()
        }
    }
}

/// A random source that always fails, to check that no share is produced.
final class FailingRandom: RandomSource {
    struct Broken: Error {}
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws { throw Broken() }
}

/// A random source that returns all zeros: the worst case for x-coordinate selection.
final class ZeroRandom: RandomSource {
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
}
