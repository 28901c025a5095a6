import KeyturnCLI

/// The executable: everything lives in KeyturnCLI so tests can reach it.
@main
struct KeyturnEntry {
    static func main() async {
        await KeyturnMain.run()
    }
}
