import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A node's API, as the tests call it directly (not through keyturn).
extension OpenBaoServer {
    /// Sends one API request; returns the HTTP status and the decoded JSON body (or nil).
    /// Plain HTTP goes through URLSession, TLS through the curl CLI with `curlTLSArguments`.
    @discardableResult
    public func call(
        _ method: String, _ path: String, _ body: [String: Any]? = nil, token: String? = nil
    ) async throws -> (Int, [String: Any]) {
        if address.hasPrefix("https") {
            var args =
                ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "\(address)/v1/\(path)"] + curlTLSArguments
            if let body {
                args += [
                    "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
                ]
            }
            let r = try await Processes.launch(Processes.which("curl") ?? "/usr/bin/curl", args)
            guard r.status == 0 else { throw HarnessError("curl \(path) failed: \(r.status) \(r.stderr)") }
            let text = r.stdoutText
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let status = Int(lines.last ?? "") ?? 0
            let json =
                (try? JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8)))
                as? [String: Any] ?? [:]
            return (status, json)
        }
        var request = URLRequest(url: URL(string: "\(address)/v1/\(path)")!)
        request.httpMethod = method
        // Generous: a raft follower can take seconds to answer the share that makes it join.
        request.timeoutInterval = 60
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        if let token { request.setValue(token, forHTTPHeaderField: "X-Vault-Token") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, json)
    }

    /// `sys/init` with the given shares and threshold; returns the hex keys and the root token.
    public func initialize(shares: Int, threshold: Int) async throws -> (keys: [String], rootToken: String) {
        let (status, json) = try await call(
            "PUT", "sys/init", ["secret_shares": shares, "secret_threshold": threshold])
        guard status == 200, let keys = json["keys"] as? [String], let token = json["root_token"] as? String else {
            throw HarnessError("sys/init failed: \(status) \(json)")
        }
        return (keys, token)
    }

    /// `sys/seal-status`'s JSON.
    public func sealStatus() async throws -> [String: Any] {
        try await call("GET", "sys/seal-status").1
    }

    /// Submits each key to `sys/unseal` in turn.
    public func unseal(with keys: [String]) async throws {
        for key in keys {
            let (status, json) = try await call("PUT", "sys/unseal", ["key": key])
            guard status == 200 else { throw HarnessError("unseal failed: \(status) \(json)") }
        }
    }

    /// Waits until this follower has joined `leader`'s raft cluster (seal status: initialised).
    /// `retry_join` normally does it within seconds; on a loaded machine a follower was once
    /// still uninitialised after 120 s, so after 30 s the join is also asked for through the API.
    public func waitUntilJoined(leader: String, timeout: Double = 120) async throws {
        let joined: (OpenBaoServer) async throws -> Bool = { try await $0.sealStatus()["initialized"] as? Bool == true }
        if (try? await waitUntil(timeout: min(30, timeout), joined)) != nil { return }
        _ = try? await call("PUT", "sys/storage/raft/join", ["leader_api_addr": leader])
        try await waitUntil(timeout: max(timeout - 30, 30), joined)
    }

    /// Polls `condition` every 200 ms until it holds or `timeout` seconds pass.
    public func waitUntil(timeout: Double, _ condition: (OpenBaoServer) async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await condition(self)) == true { return }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        throw HarnessError("\(address) did not reach the expected state within \(timeout) s; log: \(logDigest)")
    }
}
