extension Array where Element == String {
    /// A list option's values, each of which may itself be a comma-separated list
    /// (`--pgp-keys a.asc,b.asc --pgp-keys c.asc`).
    var commaSeparated: [String] { flatMap { $0.split(separator: ",").map(String.init) } }
}
