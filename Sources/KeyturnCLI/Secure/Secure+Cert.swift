import ArgumentParser
import Ceremony
import Foundation
import ProcessHygiene
import TLSMaterial

extension Secure {
    /// `keyturn secure cert`.
    struct Cert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cert",
            abstract: "Issue a server certificate NAME.pem and key NAME-key.pem (0600) from the CA in --ca-dir.")

        @Option(help: ArgumentHelp("Directory holding ca.pem and ca-key.pem.", valueName: "dir"))
        var caDir: String

        @Option(help: ArgumentHelp("Name of the files, and the certificate's common name.", valueName: "name"))
        var name: String

        @Option(
            parsing: .singleValue,
            help: ArgumentHelp("A DNS name the certificate is for (repeat, or comma-separated).", valueName: "name"))
        var dns: [String] = []

        @Option(
            parsing: .singleValue,
            help: ArgumentHelp(
                "An IP address the certificate is for (repeat, or comma-separated).", valueName: "address"))
        var ip: [String] = []

        @Option(help: ArgumentHelp("Validity in days.", valueName: "n"))
        var days = 365

        @Option(help: ArgumentHelp("Directory for the certificate and key (default: the CA's).", valueName: "dir"))
        var outDir: String?

        @Flag(help: "Also allow the certificate as a TLS client (for mutual TLS).")
        var clientAuth = false

        var dnsNames: [String] { dns.commaSeparated }
        var ipAddresses: [String] { ip.commaSeparated }

        func validate() throws {
            guard days > 0 else { throw ValidationError("--days must be positive") }
            guard !name.isEmpty, !name.contains("/") else { throw ValidationError("--name must be a plain file name") }
            if dnsNames.isEmpty && ipAddresses.isEmpty && !clientAuth {
                throw ValidationError("a server certificate needs at least one --dns or --ip")
            }
            for address in ipAddresses {
                guard ProcessHygiene.isIPAddress(address) else {
                    throw ValidationError("'\(address)' is not an IP address")
                }
            }
        }

        func run() throws {
            let issued = try CertificateAuthority.issue(
                caDir: caDir,
                request: CertificateRequest(
                    commonName: name, dnsNames: dnsNames, ipAddresses: ipAddresses, days: days, clientAuth: clientAuth),
                outDir: outDir ?? caDir)
            Terminal.stdoutLine(issued.certificate)
            Terminal.stdoutLine(issued.key)
        }
    }
}
