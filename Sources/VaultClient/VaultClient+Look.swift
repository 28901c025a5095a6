import Foundation

/// What a node answered to a request that changes nothing, refusals included.
package struct EndpointAnswer: Sendable {
    /// The HTTP status.
    package let status: Int
    /// The node's `Date` header, when it sent one that parses.
    package let date: Date?
    /// The reply's JSON fields (of its `data` object, for a wrapped reply).
    package let fields: [String: JSONValue]
}

extension VaultClient {
    /// Sends a request that changes nothing (a GET, or the POST of `sys/capabilities-self`) and
    /// returns whatever the node answered: for `doctor`, where a 405 or a 403 is a finding and
    /// not a failure. Throws only when no answer came.
    package func look(
        _ path: String, method: String = "GET", body: [String: JSONValue]? = nil, token: Bool = false
    ) async throws(VaultError) -> EndpointAnswer {
        let (status, headers, reply) = try await send(
            method, path, body: body.flatMap { try? JSONEncoder().encode($0) }, token: token)
        let raw = (try? JSONDecoder().decode([String: JSONValue].self, from: reply)) ?? [:]
        var fields = raw
        if case .object(let data)? = raw["data"] { fields = data }
        let dateText = headers.first { ($0.key as? String)?.lowercased() == "date" }?.value as? String
        return EndpointAnswer(status: status, date: dateText.flatMap(Self.httpDate), fields: fields)
    }

    /// An HTTP date (`Fri, 04 Dec 2026 14:32:56 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)
    }
}
