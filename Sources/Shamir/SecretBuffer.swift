import ShamirKernels

/// A fixed-size heap buffer for secret bytes that is zeroed when it is released.
///
/// Swift arrays may be copied or moved behind our back; secret material handled in bulk
/// lives here instead, so there is exactly one copy to wipe.
public final class SecretBuffer {
    /// The bytes (exactly `count` of them); valid until the buffer is released.
    public let bytes: UnsafeMutableRawBufferPointer
    /// The allocation, at least one byte even for an empty buffer.
    private let storage: UnsafeMutableRawBufferPointer

    /// Allocates `count` zeroed bytes.
    public init(count: Int) {
        storage = .allocate(byteCount: max(count, 1), alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        bytes = UnsafeMutableRawBufferPointer(rebasing: storage[0..<max(count, 0)])
    }

    /// The number of bytes.
    public var count: Int { bytes.count }

    /// Zeroes the first `count` bytes (all by default) now, not only at release.
    public func wipe(_ count: Int? = nil) {
        kt_secure_zero(bytes.baseAddress, min(count ?? bytes.count, bytes.count))
    }

    deinit {
        kt_secure_zero(storage.baseAddress, storage.count)
        storage.deallocate()
    }
}

/// Zeroes memory in a way the optimiser cannot remove.
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    kt_secure_zero(buffer.baseAddress, buffer.count)
}

/// Zeroes an array's storage in place, where it is uniquely referenced.
public func secureZero(_ array: inout [UInt8]) {
    array.withUnsafeMutableBytes { secureZero($0) }
}
