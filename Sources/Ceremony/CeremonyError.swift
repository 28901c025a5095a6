import KeyturnFailure

/// Why a ceremony step failed: a code (what kind of failure; the CLI turns it into an exit
/// status and a hint), a reason for a person, and the facts a hint may name. Reasons are
/// lower-case single lines that name the file, node or value at fault and never contain
/// secret material; they never name a keyturn flag or command.
package struct CeremonyError: KeyturnFailure, CustomStringConvertible {
    /// The kinds of failure the CLI tells the user about differently.
    package enum Code: String, Sendable {
        /// Bad input or a local failure with nothing more to say than the reason.
        case failed
        /// A node refused or could not be asked; nothing more to say than the reason.
        case refused
        /// A key or share file exists already (nothing is ever overwritten). Facts: path.
        case fileExists
        /// A file appeared while keyturn was writing beside it. Facts: path.
        case fileRaced
        /// A secret file group or others can read. Facts: path.
        case notPrivate
        /// An output directory that others can write to, or a symbolic link. Facts: path.
        case unsafeDirectory
        /// A signal came while files were put in place; they were removed again. Facts: signal.
        case interrupted
        /// A share given on the command line.
        case shareOnCommandLine
        /// No share file and no terminal to ask on.
        case noShareSource
        /// A secret would be read from the terminal, where it would echo.
        case secretOnTerminal
        /// Decryption failed. Facts: pgpCode (PGPError's code), recipients.
        case decryptFailed
        /// A share does not match its commitment in the ceremony record.
        case commitmentMismatch
        /// The same share given twice to combine.
        case sameShareTwice
        /// One key given twice. Facts: path.
        case sameKeyTwice
        /// Two key files that would write the same share file.
        case sameFileName
        /// The node is initialised already. Facts: node, when ("before" or "sent").
        case alreadyInitialised
        /// The init request was sent but its answer did not come back. Facts: node.
        case mayBeInitialised
        /// A share submitted to a rekey or generate-root whose answer was lost; what the
        /// cluster said after. Facts: operation, verification, backup, next ("again", "counted",
        /// "restart", "startAgain", "ended", "verified", "unknown").
        case answerLost
        /// A node is not initialised (unseal).
        case notInitialised
        /// The threshold-th share did not open the key; progress is lost. Facts: operation.
        case sharesRefused
        /// No active node among those given.
        case noActiveNode
        /// The node offers no API keyturn can use without a token. Facts: operation, parameter.
        case needsTokenOrListener
        /// The node refused the token and its unauthenticated endpoints are off. Facts:
        /// operation, parameter.
        case tokenRefused
        /// A node with a Shamir seal has no recovery keys.
        case noRecoveryKeys
        /// An operation is already running. Facts: operation, nonce.
        case alreadyRunning
        /// No operation is running. Facts: operation, verification ("true" for its round).
        case notRunning
        /// The running operation has another nonce. Facts: operation.
        case nonceMismatch
        /// The new holders' key files are not in the rekey's order. Facts: path.
        case keyOrder
        /// The one-time pad does not belong to the encoded token.
        case padMismatch
        /// A key is not the certificate's. Facts: path.
        case keyMismatch
        /// A file does not hold a gossip key. Facts: path.
        case notGossipKey
        /// An operation that needs a token was given none; nothing was sent. Facts: operation.
        case noToken
        /// A rekey plan is not the running rekey's (another nonce, other keys). Facts: path.
        case planMismatch
        /// Shares of two different splits were given together.
        case mixedSplits
        /// Fewer shares than the split needs. Facts: threshold.
        case tooFewShares
        /// The shares recombine to something that is not the secret they were split from.
        case notTheSecret
        /// An attestation needs the ceremony record that lists the share file.
        case noRecord
        /// The node keeps no backup of a rekey's new shares (none was asked for, or it was
        /// deleted). Facts: node.
        case noBackup
    }

    package let code: Code
    package let reason: String
    package let facts: [String: String]

    /// Makes an error; a plain local failure by default.
    package init(_ reason: String, code: Code = .failed, facts: [String: String] = [:]) {
        self.code = code
        self.reason = reason
        self.facts = facts
    }

    package var failureCode: String { "ceremony.\(code.rawValue)" }
    package var description: String { reason }
}
