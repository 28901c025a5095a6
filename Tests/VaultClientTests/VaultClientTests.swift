import Foundation
import KeyturnTestSupport
import Testing
import VaultClient

/// A one-file HTTP server (python3) that answers every request with an uninitialised node's
/// reply, holding the reply to `PUT sys/init` for `holdSeconds`; for faults a real node cannot
/// make on demand.
final class SlowInitServer: @unchecked Sendable {
    let address: String
    private let process: Process
    private let scratch: TemporaryDirectory

    init(holdSeconds: Double) throws {
        let script = """
            import http.server, json, sys, time
            class H(http.server.BaseHTTPRequestHandler):
                def reply(self, body):
                    data = json.dumps(body).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                def do_GET(self):
                    self.reply({"initialized": False})
                def do_PUT(self):
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    time.sleep(float(sys.argv[1]))
                    self.reply({"keys": ["00" * 33], "keys_base64": ["AA=="], "root_token": "s.test"})
                def log_message(self, *args):
                    pass
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        let scratch = try TemporaryDirectory("keyturn-slow")
        self.scratch = scratch
        _ = FileManager.default.createFile(atPath: scratch.file("port"), contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Processes.which("python3")))
        process.arguments = ["-c", script, String(holdSeconds)]
        process.standardOutput = FileHandle(forWritingAtPath: scratch.file("port"))
        try process.run()
        var port = ""
        for _ in 0..<200 where !port.hasSuffix("\n") {
            usleep(20_000)
            port = String(decoding: readBytes(scratch.file("port")) ?? [], as: UTF8.self)
        }
        address = "http://127.0.0.1:\(port.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    deinit {
        // SIGKILL: the test process may hand its children a blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("VaultClient against a real OpenBao node and a slow one")
struct VaultClientTests {
    @Test("seal status, init and unseal of a real node, with Vault's field names")
    func realNode() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let client = try VaultClient(address: server.address, transport: VaultTransport(timeout: 60))
        let (before, raw) = try await client.sealStatus()
        #expect(!before.initialized && before.sealed)
        #expect(raw["initialized"] != nil)
        let answer = try await client.initialize(InitRequest(secretShares: 1, secretThreshold: 1))
        #expect(answer.keys.count == 1 && answer.rootToken.hasPrefix("s."))
        let after = try await client.unseal(UnsealRequest(key: answer.keys[0]))
        #expect(!after.sealed)
    }

    @Test("the one-shot sys/init answer is waited for past the transport's timeout, which still bounds other requests")
    func oneShotAnswerOutlivesTimeout() async throws {
        let slow = try SlowInitServer(holdSeconds: 3)
        let client = try VaultClient(address: slow.address, transport: VaultTransport(timeout: 1))
        // A repeatable request is bounded by the timeout: the same slowness on GET would fail.
        #expect(try await client.initStatus().initialized == false)
        let answer = try await client.initialize(InitRequest(secretShares: 1, secretThreshold: 1))
        #expect(answer.rootToken == "s.test")
        #expect(VaultTransport.oneShotReplyTimeout >= 600)
    }

    @Test("every node's status comes back in the order given; an unreachable one is reported, not fatal")
    func fetchAllKeepsOrder() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let transport = VaultTransport(timeout: 5)
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let clients = try [dead, server.address, dead].map { try VaultClient(address: $0, transport: transport) }
        let statuses = await NodeStatus.fetchAll(clients)
        #expect(statuses.map(\.address) == [dead, server.address, dead])
        #expect(statuses[1].seal?.initialized == false)
        #expect(statuses[0].error?.code == .unreachable && statuses[2].error?.code == .unreachable)
    }

    @Test("concurrentMap keeps each result in its element's slot, with throwing work awaited inside")
    func concurrentMapKeepsOrder() async {
        struct Failure: Error {}
        @Sendable func work(_ i: Int) async throws -> Bool {
            if i % 3 == 2 { throw Failure() }
            await Task.yield()
            return i % 2 == 0
        }
        let results = await concurrentMap(Array(0..<50)) { i, element -> (Int, Bool?) in
            let value = try? await work(element)
            return (i, value)
        }
        #expect(results.map(\.0) == Array(0..<50))
        #expect(results.map(\.1) == (0..<50).map { $0 % 3 == 2 ? nil : $0 % 2 == 0 })
    }

    @Test("an address that is not an http(s) URL is refused before anything is sent")
    func invalidAddress() {
        let error = #expect(throws: VaultError.self) {
            try VaultClient(address: "ftp://x", transport: VaultTransport())
        }
        #expect(error?.code == .invalidAddress)
    }
}
