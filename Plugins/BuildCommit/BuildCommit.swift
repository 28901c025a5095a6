import Foundation
import PackagePlugin

/// Writes `buildCommit` (the git commit the tree is at, "-modified" when it has changes, or
/// "unknown commit" outside git, as in a source tarball) into a Swift file for KeyturnCLI, so
/// that `keyturn --version` says what it was built from. A prebuild command: it runs on every
/// build, and the file changes only when the commit does.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = """
            mkdir -p "$2"
            c=$(git -C "$1" describe --always --dirty=-modified --abbrev=12 --exclude='*' 2>/dev/null) || c=
            [ -n "$c" ] || c='unknown commit'
            printf 'let buildCommit = "%s"\\n' "$c" > "$2/BuildCommit.swift.new"
            if cmp -s "$2/BuildCommit.swift.new" "$2/BuildCommit.swift"; then rm -f "$2/BuildCommit.swift.new"
            else mv "$2/BuildCommit.swift.new" "$2/BuildCommit.swift"; fi
            """
        return [
            .prebuildCommand(
                displayName: "Reading the git commit keyturn is built from",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", context.package.directoryURL.path, directory.path],
                outputFilesDirectory: directory)
        ]
    }
}
