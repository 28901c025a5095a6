import ShamirKernels

/// Arithmetic in Vault's field GF(2^8) with the polynomial x^8+x^4+x^3+x+1 (0x11b).
///
/// Every operation is branch-free and table-free, so it is safe on secret bytes.
public enum GF256 {
    /// The product of two field elements.
    @inlinable
    public static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 { kt_gf_mul(a, b) }

    /// The multiplicative inverse; 0 maps to 0.
    @inlinable
    public static func inverse(_ a: UInt8) -> UInt8 { kt_gf_inv(a) }

    /// The sum (and difference) of two field elements.
    @inlinable
    public static func add(_ a: UInt8, _ b: UInt8) -> UInt8 { a ^ b }
}

/// Which bulk kernel multiplies secret bytes by public constants.
public enum KernelImplementation: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Portable 64-bit SWAR.
    case portable = 0
    /// SSSE3 pshufb on split nibbles.
    case ssse3 = 1
    /// AVX2 pshufb on split nibbles.
    case avx2 = 2
    /// GFNI's gf2p8mulb (with AVX-512BW where present).
    case gfni = 3

    /// The implementations this CPU can run, slowest first.
    public static var available: [KernelImplementation] {
        allCases.filter { kt_impl_available($0.rawValue) != 0 }
    }

    /// The implementation in use.
    public static var current: KernelImplementation {
        KernelImplementation(rawValue: kt_current_impl()) ?? .portable
    }

    /// Uses `impl` from now on (tests and benchmarks); returns false if the CPU lacks it.
    @discardableResult
    public static func use(_ impl: KernelImplementation) -> Bool {
        kt_set_impl(impl.rawValue) == 0
    }

    public var description: String { String(cString: kt_impl_name(rawValue)) }
}
