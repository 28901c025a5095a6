import Foundation
import KeyturnTestSupport
import Testing

/// Whether a PNG's pixels vary (a blank page renders as one colour): decodes the image data
/// with Python's zlib and counts the distinct bytes.
func pngHasContent(_ path: String) async throws -> Bool {
    // The PNG decoded (its filters undone): many colours, and the green of a done mark
    // (#2e7d32), which an error page or a blank one does not have.
    let script = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            if kind == b'IHDR': width, height, depth, ctype = struct.unpack('>IIBB', data[pos + 8:pos + 18])
            if kind == b'IDAT': idat += data[pos + 8:pos + 8 + n]
            pos += 12 + n
        assert depth == 8 and ctype in (2, 6)
        bpp = 3 if ctype == 2 else 4
        raw, stride, prev, colours, green = zlib.decompress(idat), width * bpp, bytearray(width * bpp), set(), 0
        for y in range(height):
            f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                if f == 1: row[i] = (row[i] + a) & 255
                elif f == 2: row[i] = (row[i] + b) & 255
                elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, bpp):
                px = tuple(row[x:x + 3])
                colours.add(px)
                if abs(px[0] - 0x2e) < 12 and abs(px[1] - 0x7d) < 12 and abs(px[2] - 0x32) < 12: green += 1
            prev = row
        print(len(colours), green)
        """
    let r = try await Processes.launch(try #require(Processes.which("python3")), ["-c", script, path])
    let numbers = r.stdoutText.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    return numbers.count == 2 && numbers[0] > 32 && numbers[1] > 20
}

@Suite("keyturn report: three transcripts and two generations, Markdown and an HTML page seen in Chromium")
struct ReportTests {
    @Test(
        """
        init, two operators unseal, a rekey: the report names every operator, node and generation; the HTML page \
        fetches nothing and renders to a screenshot that is not blank; an edited transcript's lines from the break on \
        are drawn as not vouched for
        """,
        .enabled(if: Processes.which("chromium") != nil, "needs Debian's chromium (Scripts/test installs it)"))
    func report() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let pass = try dir.write("alice.pass", text: "alice secret\n")
        let (coord, alices, carols) = (dir.file("coordinator.jsonl"), dir.file("alice.jsonl"), dir.file("carol.jsonl"))
        func run(_ args: [String], _ log: String, token: String? = nil) async throws -> ProcessResult {
            var env = gpg.environment
            env["VAULT_TOKEN"] = token
            let r = try await Keyturn.launch(args + ["-a", server.address, "--transcript", log], environment: env)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            return r
        }
        var r = try await run(
            [
                "init", "--key-threshold", "2", "--out-dir", dir.file("gen1"), "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","),
            ], coord)
        let token = try rootToken(printedBy: r)
        _ = try await run(["unseal", dir.file("gen1/alice.asc.key"), "--passphrase-file", pass], alices)
        _ = try await run(["unseal", dir.file("gen1/carol.asc.key")], carols)
        r = try await run(
            [
                "rekey", "start", "--no-verify", "--out-dir", dir.file("gen2"), "--pgp-keys",
                [bob, carol, dave].map(\.armouredFile).joined(separator: ","),
            ], coord, token: token)
        let nonce = try #require(nonceLine(r.stdoutText))
        _ = try await run(
            [
                "rekey", "submit", "--yes", "--nonce", nonce, "--out-dir", dir.file("gen2"), "--passphrase-file", pass,
                dir.file("gen1/alice.asc.key"),
            ], alices, token: token)
        _ = try await run(
            [
                "rekey", "submit", "--yes", "--nonce", nonce, "--out-dir", dir.file("gen2"),
                dir.file("gen1/carol.asc.key"),
            ],
            carols, token: token)

        let html = dir.file("report.html")
        r = try await Keyturn.launch(
            [
                "report", coord, alices, carols, "--manifest", dir.file("gen1"), "--manifest", dir.file("gen2"),
                "--html", html,
            ],
            environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let md = r.stdoutText
        // (User ids as Markdown shows them: `<` and `>` backslash-escaped, so no id opens a tag.)
        for name in [
            "alice \\<alice@keyturn.test\\>", "carol \\<carol@keyturn.test\\>", "coordinator.jsonl", server.address,
            "Generation 1", "Generation 2", "dave \\<dave@keyturn.test\\>", "rekey submit",
        ] {
            #expect(md.contains(name), "\(name) missing from the report")
        }
        #expect(md.contains("good, by `\(alice.fingerprint)`") && md.contains("good, by `\(carol.fingerprint)`"))

        let page = String(decoding: try #require(readBytes(html)), as: UTF8.self)
        #expect(page.contains("<svg") && page.contains("Generation 2"))
        // The completing unseal is labelled by what it did, the first by its progress.
        #expect(page.contains("class=\"prog\" text-anchor=\"middle\">unsealed</text>"), "\(page)")
        #expect(page.contains("class=\"prog\" text-anchor=\"middle\">1/2</text>"), "\(page)")
        let outside = page.replacingOccurrences(of: server.address, with: "")
        #expect(!outside.contains("http://") && !outside.contains("https://"), "the page refers to something outside")
        // (A bare `//` is in every temporary path; a protocol-relative URL starts an attribute or a url().)
        for fetch in [
            "=\"//", "='//", "(//", "href=", "url(", "@import", "<script", "<link", "src=", "<iframe", "<object",
        ] {
            #expect(!outside.lowercased().contains(fetch), "the page could fetch something: \(fetch)")
        }

        // No form of any share or token in the report.
        var secrets = [token]
        for (who, passphrase) in [("alice", "alice secret"), ("carol", "")] {
            secrets += try shareForms(gpg, dir.file("gen1/\(who).asc.key"), passphrase: passphrase)
        }
        for secret in secrets { #expect(!md.contains(secret) && !page.contains(secret), "a secret is in the report") }

        let shot = dir.file("report.png")
        let c = try await Processes.launch(
            try #require(Processes.which("chromium")),
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,1500",
                "--user-data-dir=\(dir.file("chromium"))", "--screenshot=\(shot)", "file://\(html)",
            ])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(try await pngHasContent(shot), "the screenshot is blank")
        // And the check can fail: Chromium's error page for a missing file has no such green.
        let errorShot = dir.file("error.png")
        _ = try await Processes.launch(
            try #require(Processes.which("chromium")),
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,1500",
                "--user-data-dir=\(dir.file("chromium"))", "--screenshot=\(errorShot)",
                "file://\(dir.file("missing.html"))",
            ])
        #expect(try await !pngHasContent(errorShot), "an error page passed the screenshot check")

        // Alice's transcript with her unseal line edited: the report shows the anomalies and
        // draws that line, and every line after it, as not vouched for.
        var lines = String(decoding: try #require(readBytes(alices)), as: UTF8.self).split(separator: "\n").map(
            String.init)
        let edited = try #require(lines.firstIndex { $0.contains("\"command\":\"unseal\"") })
        lines[edited] = lines[edited].replacingOccurrences(of: "\"result\":\"", with: "\"result\":\"x")
        let tampered = try dir.write("tampered.jsonl", text: lines.joined(separator: "\n") + "\n")
        let tamperedHTML = dir.file("tampered.html")
        r = try await Keyturn.launch(
            ["report", coord, tampered, carols, "--manifest", dir.file("gen1"), "--html", tamperedHTML],
            environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("tampered.jsonl: the chain breaks at line \(edited + 1)"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("| x") && r.stdoutText.contains(" (not vouched for) |"), "\(r.stdoutText)")
        let doubtful = String(decoding: try #require(readBytes(tamperedHTML)), as: UTF8.self)
        #expect(doubtful.contains("fill=\"#f9a825\""))
        // Every event from the break on is marked, none before it, and none of the other transcripts'.
        let events = lines.indices.filter { lines[$0].contains("\"command\":") && !lines[$0].contains("\"close\":") }
        for i in events {
            let marked = doubtful.contains("tampered.jsonl:\(i + 1): not vouched")
            #expect(marked == (i >= edited), "line \(i + 1) of the edited transcript: marked \(marked)")
        }
        for other in ["coordinator.jsonl:", "carol.jsonl:"] {
            let marks = doubtful.components(separatedBy: other).dropFirst()
            #expect(marks.allSatisfy { !$0.drop(while: \.isNumber).hasPrefix(": not vouched") }, "\(other)")
        }
        #expect(!page.contains("fill=\"#f9a825\""), "the untouched transcripts are all vouched for")

        // Alice's transcript withheld: Carol's share completed the unseal (threshold 2), and no
        // transcript shows the first share.
        r = try await Keyturn.launch(
            ["report", coord, carols, "--manifest", dir.file("gen1"), "--strict"], environment: gpg.environment)
        #expect(r.status == 2 && r.stdoutText.contains("no transcript shows share 1"), "\(r.stdoutText)")

        // The order the transcripts are given in changes nothing (their answers share a second).
        for order in [[alices, carols], [carols, alices]] {
            r = try await Keyturn.launch(
                ["report"] + order + ["--manifest", dir.file("gen1")], environment: gpg.environment)
            #expect(!r.stdoutText.contains("no transcript shows share"), "\(order): \(r.stdoutText)")
        }
        // One transcript given twice would count twice.
        r = try await Keyturn.launch(
            ["report", alices, carols, alices, "--manifest", dir.file("gen1")], environment: gpg.environment)
        #expect(r.stdoutText.contains("one transcript given twice, or a copy"), "\(r.stdoutText)")

        // A record whose fingerprint holds a table's pipe and markup: it stays inside its code span.
        let recordBytes = try #require(readBytes(dir.file("gen1/ceremony.json")))
        var record = try #require(try JSONSerialization.jsonObject(with: Data(recordBytes)) as? [String: Any])
        var holders = try #require(record["share_files"] as? [[String: Any]])
        holders[0]["fingerprint"] = "4FFD|<img src=x onerror=alert(1)> **[click](https://evil.example)** <!--"
        record["share_files"] = holders
        let crafted = try dir.write("crafted.json", [UInt8](try JSONSerialization.data(withJSONObject: record)))
        // The record's threshold edited (it is unsigned): the nodes' answers in signed lines disagree.
        var raised = record
        raised["threshold"] = 3
        let raisedFile = try dir.write("raised.json", [UInt8](try JSONSerialization.data(withJSONObject: raised)))
        r = try await Keyturn.launch(
            ["report", alices, carols, "--manifest", raisedFile], environment: gpg.environment)
        #expect(r.stdoutText.contains("answered a threshold of 2, but the ceremony record"), "\(r.stdoutText)")
        r = try await Keyturn.launch(["report", "--manifest", crafted], environment: gpg.environment)
        let row = try #require(r.stdoutText.split(separator: "\n").first { $0.contains("4FFD") })
        #expect(row.contains("`4FFD\\|<img") && row.filter { $0 == "|" }.count == 5, "\(row)")
    }
}
