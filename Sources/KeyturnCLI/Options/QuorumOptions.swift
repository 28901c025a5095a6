import ArgumentParser
import Ceremony
import VaultClient

/// What every rekey and generate-root subcommand, seal and step-down take: the nodes, the
/// token (OpenBao's authenticated endpoints, sys/seal, sys/step-down), and the transcript.
struct QuorumOptions: ParsableArguments {
    @OptionGroup(title: "Connection options")
    var connection: ConnectionOptions

    @OptionGroup
    var token: TokenOptions

    @OptionGroup
    var transcript: TranscriptOptions

    @OptionGroup
    var namespace: NamespaceOption

    init() {}

    /// Finds the active node and the API it offers for `kind` on `target`'s keys, with the
    /// token if one is given.
    func ceremony(
        _ kind: QuorumEndpoints.Kind, target: QuorumEndpoints.Target = .unseal
    ) async throws -> (QuorumCeremony, Connection) {
        let secret = try token.resolve()
        let conn = try connection.resolve().with(token: secret).with(namespace: namespace.namespace)
        conn.warnIfPlaintext(sending: secret == nil ? "shares" : "shares and a token")
        let ceremony = try await QuorumCeremony.connect(conn.clients, kind: kind, target: target) {
            Terminal.stderrLine("keyturn: waiting up to 60 s for an election: \($0)")
        }
        return (ceremony, conn)
    }
}
