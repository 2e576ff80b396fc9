import Foundation

/// Finds the `Migrations/` folder for an installed or a freshly built binary.
///
/// Order: an explicit path (flag or `INBOXLITE_MIGRATIONS`); `<prefix>/share/inboxlite/Migrations`
/// next to an installed `<prefix>/bin/inboxlite`; a `Migrations` folder beside the binary or in any
/// folder above it (a binary in `.build/debug` finds the repository's); then `./Migrations`.
public enum MigrationsLocator {
    public static func find(explicit: String?) -> URL? {
        if let explicit, !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        candidates.append(folder.deletingLastPathComponent().appendingPathComponent("share/inboxlite/Migrations"))
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent("Migrations"))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Migrations"))
        return candidates.first { hasMigrations($0) }
    }

    private static func hasMigrations(_ folder: URL) -> Bool {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.contains { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
    }
}
