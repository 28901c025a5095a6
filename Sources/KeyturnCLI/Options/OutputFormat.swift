import ArgumentParser

/// How a command prints its result.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json

    /// Vault's names for the same: `table` is text.
    static func parse(_ value: String) -> OutputFormat? {
        switch value.lowercased() {
        case "text", "table": return .text
        case "json": return .json
        default: return nil
        }
    }
}
