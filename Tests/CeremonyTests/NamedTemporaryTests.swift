import Ceremony
import Foundation
import KeyturnTestSupport
import ProcessHygiene
import Testing

@Suite("where a file system has no O_TMPFILE: the hidden temporary name, and its removal on a signal")
struct NamedTemporaryTests {
    @Test(
        """
        the fallback writes under a hidden name, which the signal handler's removal takes away (the file never \
        appears), and which publishing or dropping the file forgets
        """
    )
    func fallback() throws {
        let dir = try TemporaryDirectory()
        let hidden = {
            (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".tmp") } ?? []
        }

        var file: PendingFile? = try PendingFile(path: dir.file("share-1.share"), unnamed: false)
        try Array("6b".utf8).withUnsafeBytes { try file?.write($0) }
        #expect(hidden().count == 1, "the fallback names the file being written")
        // What the handler of SIGINT, SIGTERM and SIGHUP does before the process ends.
        ProcessHygiene.removeTemporaries()
        #expect(hidden().isEmpty && !FileManager.default.fileExists(atPath: dir.file("share-1.share")))
        file = nil

        let kept = try PendingFile(path: dir.file("share-2.share"), unnamed: false)
        try Array("6b".utf8).withUnsafeBytes { try kept.write($0) }
        try kept.publish()
        #expect(hidden().isEmpty && readBytes(dir.file("share-2.share")) == Array("6b".utf8))
        // Published: no longer the handler's to remove.
        ProcessHygiene.removeTemporaries()
        #expect(FileManager.default.fileExists(atPath: dir.file("share-2.share")))
    }
}
