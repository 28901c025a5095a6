import Foundation

extension OpenBaoServer.Options {
    /// A node that initialises itself (OpenBao >= 2.4's `initialize` stanza) behind a static
    /// seal: it comes up initialised and unsealed with no recovery keys, its own root token
    /// revoked, and `token` (root policy) left for the operator.
    public static func selfInitialising(token: String, key: String = newStaticSealKey()) -> String {
        staticSeal(key: key) + """
            initialize "operators" {
              request "token" {
                operation = "update"
                path = "auth/token/create"
                data = { id = "\(token)", policies = ["root"], no_parent = true }
              }
            }

            """
    }
}
