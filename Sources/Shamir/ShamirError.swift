import KeyturnFailure

/// Why a split or a combine was refused: a stable code for programs and a reason for people.
///
/// Reasons are lower-case and carry no secret, so the CLI can show them as they are.
public struct ShamirError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, independent of the wording.
    public enum Code: Hashable, Sendable {
        /// The secret to split has no bytes.
        case emptySecret
        /// The share count is below 1 or above 255.
        case shareCountOutOfRange
        /// The threshold is below 2 (or 1 while splitting into several shares).
        case thresholdTooSmall
        /// The threshold is larger than the number of shares.
        case thresholdExceedsShares
        /// Fewer than two shares were given to combine.
        case tooFewShares
        /// A share has fewer than two bytes (one y-byte and the x-coordinate).
        case shareTooShort
        /// The shares do not all have the same length.
        case shareLengthMismatch
        /// Two shares have the same x-coordinate.
        case duplicateShare
        /// A share has the x-coordinate 0, which would be the secret itself.
        case zeroCoordinate
        /// The random source failed; nothing was produced.
        case randomFailure
    }

    /// The kind of failure.
    public let code: Code
    /// A one-line explanation for a person.
    public let reason: String

    /// Makes an error with its code and reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}

extension ShamirError: KeyturnFailure {
    package var failureCode: String { "shamir.\(code)" }
    package var facts: [String: String] { [:] }
}
