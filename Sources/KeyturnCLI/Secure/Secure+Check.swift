import ArgumentParser
import Ceremony
import Foundation
import TLSMaterial
import VaultClient

extension Secure {
    /// `keyturn secure check`: what each node's listener serves, and whether it will do for long.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check the certificate each node serves: chain, name and expiry (exit 2 on a problem, for cron).",
            discussion: """
                Connects to every node, verifies the certificate it serves against --ca-cert (or \
                the system's CAs) and the name, and prints subject, SANs, issuer and expiry. Exit 2 \
                if verification fails or a certificate expires within --warn-days; 1 if a node \
                cannot be reached.
                """)

        @OptionGroup(title: "Connection options")
        var connection: ConnectionOptions

        @Option(
            help: ArgumentHelp("Warn (exit 2) when a certificate expires within this many days.", valueName: "days"))
        var warnDays = 30

        func run() async throws {
            let conn = try connection.resolve()
            var checks: [ListenerCheck] = []
            for client in conn.clients { checks.append(await ListenerCheck.run(client, warnDays: warnDays)) }
            if conn.format == .json {
                Terminal.stdoutLine(Output.nodesDocument(checks.map(document)))
            } else {
                let header = ["ADDRESS", "SUBJECT", "SANS", "ISSUER", "NOT AFTER", "STATUS"]
                Terminal.stdoutLine(Output.table(header, checks.map(row)))
                checks.forEach(report)
            }
            let failed = checks.contains { if case .failed = $0.finding { return true } else { return false } }
            let flagged = checks.contains { if case .ok = $0.finding { return false } else { return true } }
            throw ExitCode((failed ? ExitStatus.localFailure : flagged ? .serverFailure : .success).rawValue)
        }

        /// The STATUS column's text (JSON's "error").
        private func status(_ check: ListenerCheck) -> String? {
            switch check.finding {
            case .ok: return nil
            case .unverified(let e): return Output.shortReason(e.reason, address: check.address)
            case .expiring(let days, let expired):
                return expired ? "expired" : "expires in \(days) days (within \(warnDays))"
            case .failed(let failure): return Output.shortReason(failure.reason, address: check.address)
            }
        }

        /// Reports what is wrong with a node's certificate, if anything.
        private func report(_ check: ListenerCheck) {
            switch check.finding {
            case .ok: return
            case .unverified(let e): Terminal.report(e)
            case .expiring:
                Terminal.report(
                    "\(check.address)'s certificate \(status(check) ?? "")", hint: "renew it: keyturn secure cert ...")
            case .failed(let failure): Terminal.report(failure)
            }
        }

        private func row(_ check: ListenerCheck) -> [String] {
            guard let cert = check.certificate else { return [check.address, "-", "-", "-", "-", status(check) ?? ""] }
            let expiry = ISO8601DateFormatter().string(from: cert.notAfter)
            return [
                check.address, cert.subject, cert.subjectAltNames.joined(separator: " "), cert.issuer, expiry,
                status(check) ?? "ok",
            ]
        }

        private func document(_ check: ListenerCheck) -> JSONValue {
            var doc: [String: JSONValue] = ["address": .string(check.address)]
            if let cert = check.certificate {
                var verified = true
                if case .unverified = check.finding { verified = false }
                doc.merge([
                    "subject": .string(cert.subject), "sans": .array(cert.subjectAltNames.map(JSONValue.string)),
                    "issuer": .string(cert.issuer), "serial": .string(cert.serial),
                    "not_before": .string(ISO8601DateFormatter().string(from: cert.notBefore)),
                    "not_after": .string(ISO8601DateFormatter().string(from: cert.notAfter)),
                    "days_left": .number(Double(check.daysLeft)), "verified": .bool(verified),
                ]) { $1 }
            }
            if case .failed(let failure) = check.finding {
                doc["error"] = .string(failure.reason)
            } else {
                doc["error"] = status(check).map(JSONValue.string) ?? .null
            }
            return .object(doc)
        }
    }
}
