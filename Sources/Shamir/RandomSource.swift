import ShamirKernels

#if canImport(Glibc)
    import Glibc
#endif

/// Where split draws its random x-coordinates and polynomial coefficients.
///
/// Injectable so tests can be deterministic; production uses a CSPRNG. Implementations
/// should serve large requests efficiently: split asks for (threshold - 1) bytes per secret
/// byte in one call per chunk.
public protocol RandomSource: AnyObject {
    /// Fills `buffer` entirely with random bytes, or throws.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws

    /// Whether `fill` may run on several threads at once; large splits then use every core.
    var allowsConcurrentUse: Bool { get }
}

extension RandomSource {
    /// A source is assumed to be single-threaded unless it says otherwise.
    public var allowsConcurrentUse: Bool { false }
}

/// The kernel's CSPRNG through `getrandom(2)`: always available, about 350 MiB/s here.
public final class SystemRandom: RandomSource, Sendable {
    /// The failure `getrandom` reported.
    public struct Failure: Error {
        /// The errno value.
        public let errno: Int32
    }

    /// Makes the source; it holds no state.
    public init() {}

    /// The kernel serves every thread.
    public var allowsConcurrentUse: Bool { true }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        guard var p = buffer.baseAddress else { return }
        var left = buffer.count
        while left > 0 {
            let got = kt_getrandom(p, left)
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure(errno: errno)
            }
            p += got
            left -= got
        }
    }
}
