import Foundation

/// The environment variables keyturn reads (the README's connection options): for each setting, the first one set wins.
enum EnvironmentNames {
    static let address = ["VAULT_ADDR", "BAO_ADDR"]
    static let caCert = ["VAULT_CACERT", "BAO_CACERT"]
    static let caPath = ["VAULT_CAPATH", "BAO_CAPATH"]
    static let clientCert = ["VAULT_CLIENT_CERT", "BAO_CLIENT_CERT"]
    static let clientKey = ["VAULT_CLIENT_KEY", "BAO_CLIENT_KEY"]
    static let serverName = ["VAULT_TLS_SERVER_NAME", "BAO_TLS_SERVER_NAME"]
    static let skipVerify = ["VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY"]
    static let format = ["VAULT_FORMAT"]
    static let token = ["VAULT_TOKEN", "BAO_TOKEN"]

    /// The value of the first of `names` that is set and not empty.
    static func first(_ names: [String], in environment: [String: String]) -> (name: String, value: String)? {
        for name in names { if let v = environment[name], !v.isEmpty { return (name, v) } }
        return nil
    }
}
