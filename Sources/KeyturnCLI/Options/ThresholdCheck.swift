import Ceremony
import Shamir

/// Vault's rule for shares and threshold (`Shamir.validate`: 2 <= threshold <= shares <= 255,
/// or 1 and 1), in the words init and rekey start use.
enum ThresholdCheck {
    /// Throws when `threshold` does not fit `shares`; `kind` ("recovery") names the shares.
    static func require(shares: Int, threshold: Int, kind: String? = nil) throws {
        do throws(ShamirError) { try Shamir.validate(shares: shares, threshold: threshold) } catch {
            let adjective = kind.map { $0 + " " } ?? ""
            throw CLIError(
                "a \(adjective)threshold of \(threshold) does not fit \(shares) \(adjective)share"
                    + (shares == 1 ? "" : "s"),
                hint: "2 <= threshold <= shares <= 255, or 1 and 1")
        }
    }
}
