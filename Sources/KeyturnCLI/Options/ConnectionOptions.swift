import ArgumentParser
import Ceremony
import Foundation
import Shamir
import VaultClient

/// The node address used when none is given, as Vault's CLI does.
let defaultAddress = "https://127.0.0.1:8200"

/// The connection options shared by every command that talks to a server.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("a"), .long],
        help: ArgumentHelp(
            "A node's address; repeat for several (default: VAULT_ADDR or BAO_ADDR, comma-separated, or "
                + "\(defaultAddress)).",
            valueName: "url"))
    var address: [String] = []

    @Option(
        name: .customLong("ca-cert"), help: ArgumentHelp("PEM CA bundle to trust (VAULT_CACERT).", valueName: "file"))
    var caCert: String?

    @Option(
        name: .customLong("ca-path"),
        help: ArgumentHelp("Directory of hashed PEM CAs to trust (VAULT_CAPATH).", valueName: "dir"))
    var caPath: String?

    @Option(
        name: .customLong("client-cert"),
        help: ArgumentHelp("PEM client certificate for mutual TLS (VAULT_CLIENT_CERT).", valueName: "file"))
    var clientCert: String?

    @Option(
        name: .customLong("client-key"),
        help: ArgumentHelp("PEM key of the client certificate (VAULT_CLIENT_KEY).", valueName: "file"))
    var clientKey: String?

    @Option(
        name: .customLong("tls-server-name"),
        help: ArgumentHelp(
            "Name to verify the server's certificate against (VAULT_TLS_SERVER_NAME).", valueName: "name"))
    var tlsServerName: String?

    @Flag(
        name: .customLong("tls-skip-verify"),
        help: "Do not verify the server's certificate (VAULT_SKIP_VERIFY); insecure.")
    var tlsSkipVerify = false

    @Option(help: ArgumentHelp("Seconds before a request to a node is given up.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(help: ArgumentHelp("Output: text (a table) or json (VAULT_FORMAT).", valueName: "text|json"))
    var format: String?

    /// The settings in force: flags first, then the environment, then defaults; every file is
    /// checked here so that nothing is sent with settings that cannot work.
    func resolve(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Connection {
        var addresses = address.flatMap {
            $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        if addresses.isEmpty, let env = EnvironmentNames.first(EnvironmentNames.address, in: environment) {
            addresses = env.value.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        addresses = addresses.filter { !$0.isEmpty }
        if addresses.isEmpty { addresses = [defaultAddress] }

        func setting(_ flag: String?, _ names: [String]) -> (value: String, source: String)? {
            if let flag { return (flag, "") }
            return EnvironmentNames.first(names, in: environment).map { ($0.value, " (from \($0.name))") }
        }
        var tls = TLSOptions()
        if let ca = setting(caCert, EnvironmentNames.caCert) {
            try requireReadableFile(ca.value, what: "CA certificate file\(ca.source)")
            tls.caCertFile = ca.value
        }
        if let dir = setting(caPath, EnvironmentNames.caPath) {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir.value, isDirectory: &isDir), isDir.boolValue else {
                throw KeyturnError("the CA directory\(dir.source) \(dir.value) does not exist or is not a directory")
            }
            tls.caPath = dir.value
        }
        let cert = setting(clientCert, EnvironmentNames.clientCert),
            key = setting(clientKey, EnvironmentNames.clientKey)
        switch (cert, key) {
        case (nil, nil): break
        case let (c?, k?):
            try requireReadableFile(c.value, what: "client certificate\(c.source)")
            try requireReadableFile(k.value, what: "client key\(k.source)")
            tls.clientCertFile = c.value
            tls.clientKeyFile = k.value
        case (_?, nil):
            throw KeyturnError(
                "a client certificate needs its key", hint: "pass --client-key (or VAULT_CLIENT_KEY) too")
        case (nil, _?):
            throw KeyturnError(
                "a client key needs its certificate", hint: "pass --client-cert (or VAULT_CLIENT_CERT) too")
        }
        tls.serverName = setting(tlsServerName, EnvironmentNames.serverName)?.value
        if tlsSkipVerify {
            tls.skipVerify = true
        } else if let env = EnvironmentNames.first(EnvironmentNames.skipVerify, in: environment) {
            guard let flag = parseBool(env.value) else {
                throw KeyturnError("\(env.name) must be true or false, not '\(env.value)'")
            }
            tls.skipVerify = flag
        }
        guard timeout > 0, timeout.isFinite else {
            throw KeyturnError("--timeout must be a positive number of seconds")
        }

        var outputFormat = OutputFormat.text
        if let f = format ?? EnvironmentNames.first(EnvironmentNames.format, in: environment)?.value {
            guard let parsed = OutputFormat.parse(f) else {
                throw KeyturnError("unknown output format '\(f)'", hint: "use --format text or --format json")
            }
            outputFormat = parsed
        }
        let transport = VaultTransport(tls: tls, timeout: timeout)
        var clients: [VaultClient] = []
        for a in addresses {
            do { clients.append(try VaultClient(address: a, transport: transport)) } catch {
                throw KeyturnError(error.reason, hint: error.hint)
            }
        }
        if tls.skipVerify {
            Terminal.warn("TLS verification is disabled: the server's identity is not checked")
        }
        return Connection(clients: clients, transport: transport, format: outputFormat)
    }

    private func requireReadableFile(_ path: String, what: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw KeyturnError("the \(what) \(path) does not exist")
        }
        guard !isDir.boolValue, FileManager.default.isReadableFile(atPath: path) else {
            throw KeyturnError("the \(what) \(path) cannot be read")
        }
    }

    /// Go's strconv.ParseBool, which Vault uses for its boolean variables.
    private func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}
