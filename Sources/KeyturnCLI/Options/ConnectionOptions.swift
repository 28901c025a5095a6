import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
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
            discussion:
                "dns:NAME:PORT is every address NAME resolves to, srv:_service._proto.DOMAIN every target of its "
                + "SRV records; TLS verifies the name (http:// after the prefix for plain HTTP).",
            valueName: "url"))
    var address: [String] = []

    @Option(
        name: .customLong("dns-server"),
        help: ArgumentHelp(
            "The DNS server (IPv4 ADDR:PORT) that dns: and srv: addresses are asked of (default: the system's).",
            valueName: "addr:port"))
    var dnsServer: String?

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
        let tls = try tlsOptions(environment)
        guard timeout > 0, timeout.isFinite else {
            throw CLIError("--timeout must be a positive number of seconds")
        }
        let outputFormat = try self.outputFormat(environment)
        let transport = VaultTransport(tls: tls, timeout: timeout)
        let clients = try nodes(environment).map { node in
            // A node found by name is verified against that name, unless --tls-server-name says otherwise.
            guard let name = node.serverName, tls.serverName == nil else {
                return try VaultClient(address: node.address, transport: transport)
            }
            var named = tls
            named.serverName = name
            return try VaultClient(address: node.address, transport: VaultTransport(tls: named, timeout: timeout))
        }
        if tls.skipVerify {
            Terminal.warn("TLS verification is disabled: the server's identity is not checked")
        }
        return Connection(clients: clients, transport: transport, format: outputFormat)
    }

    /// The nodes: -a (each may be a comma-separated list), else VAULT_ADDR/BAO_ADDR, else the default.
    private func addresses(_ environment: [String: String]) -> [String] {
        var addresses = address.flatMap {
            $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        if addresses.isEmpty, let env = EnvironmentNames.first(EnvironmentNames.address, in: environment) {
            addresses = env.value.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        addresses = addresses.filter { !$0.isEmpty }
        return addresses.isEmpty ? [defaultAddress] : addresses
    }

    /// The nodes: the addresses, with dns: and srv: names expanded to the nodes behind them.
    private func nodes(_ environment: [String: String]) throws -> [NodeDiscovery.Node] {
        var server: (host: String, port: Int)?
        if let dnsServer {
            guard let colon = dnsServer.lastIndex(of: ":"), let port = Int(dnsServer[dnsServer.index(after: colon)...]),
                (1...65535).contains(port)
            else { throw CLIError("--dns-server must be ADDR:PORT (an IPv4 address), not '\(dnsServer)'") }
            server = (String(dnsServer[..<colon]), port)
        }
        return try addresses(environment).flatMap { a in
            NodeDiscovery.isName(a)
                ? try NodeDiscovery.expand(a, server: server) : [NodeDiscovery.Node(address: a, serverName: nil)]
        }
    }

    /// A flag's value, else the first variable of `names` set (saying which, for messages).
    private func setting(
        _ flag: String?, _ names: [String], _ environment: [String: String]
    ) -> (value: String, source: String)? {
        if let flag { return (flag, "") }
        return EnvironmentNames.first(names, in: environment).map { ($0.value, " (from \($0.name))") }
    }

    /// The TLS settings, every file they name checked.
    private func tlsOptions(_ environment: [String: String]) throws -> TLSOptions {
        var tls = TLSOptions()
        if let ca = setting(caCert, EnvironmentNames.caCert, environment) {
            try requireReadableFile(ca.value, what: "CA certificate file\(ca.source)")
            tls.caCertFile = ca.value
        }
        if let dir = setting(caPath, EnvironmentNames.caPath, environment) {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir.value, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError(
                    "the CA directory\(dir.source) \(quoted(dir.value)) does not exist or is not a directory")
            }
            tls.caPath = dir.value
        }
        (tls.clientCertFile, tls.clientKeyFile) = try clientCertificate(environment)
        if let name = setting(tlsServerName, EnvironmentNames.serverName, environment) {
            guard NodeDiscovery.isHostName(name.value) else {
                throw CLIError("the TLS server name\(name.source) '\(name.value)' is not a host name")
            }
            tls.serverName = name.value
        }
        if tlsSkipVerify {
            tls.skipVerify = true
        } else if let env = EnvironmentNames.first(EnvironmentNames.skipVerify, in: environment) {
            guard let flag = parseBool(env.value) else {
                throw CLIError("\(env.name) must be true or false, not '\(env.value)'")
            }
            tls.skipVerify = flag
        }
        return tls
    }

    /// The client certificate and key for mutual TLS: both or neither.
    private func clientCertificate(_ environment: [String: String]) throws -> (String?, String?) {
        let cert = setting(clientCert, EnvironmentNames.clientCert, environment)
        let key = setting(clientKey, EnvironmentNames.clientKey, environment)
        switch (cert, key) {
        case (nil, nil): return (nil, nil)
        case let (c?, k?):
            try requireReadableFile(c.value, what: "client certificate\(c.source)")
            try requireReadableFile(k.value, what: "client key\(k.source)")
            return (c.value, k.value)
        case (_?, nil):
            throw CLIError("a client certificate needs its key", hint: "pass --client-key (or VAULT_CLIENT_KEY) too")
        case (nil, _?):
            throw CLIError("a client key needs its certificate", hint: "pass --client-cert (or VAULT_CLIENT_CERT) too")
        }
    }

    /// --format, else VAULT_FORMAT, else text.
    private func outputFormat(_ environment: [String: String]) throws -> OutputFormat {
        guard let f = format ?? EnvironmentNames.first(EnvironmentNames.format, in: environment)?.value else {
            return .text
        }
        guard let parsed = OutputFormat.parse(f) else {
            throw CLIError("unknown output format '\(f)'", hint: "use --format text or --format json")
        }
        return parsed
    }

    private func requireReadableFile(_ path: String, what: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIError("the \(what) \(quoted(path)) does not exist")
        }
        guard !isDir.boolValue, FileManager.default.isReadableFile(atPath: path) else {
            throw CLIError("the \(what) \(quoted(path)) cannot be read")
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
