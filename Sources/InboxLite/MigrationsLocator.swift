import Foundation

/// Finds files the binary ships with (`Migrations/`, `openapi.yaml`) for an installed or a freshly
/// built binary.
///
/// Order: an explicit path (flag or environment); `<prefix>/share/inboxlite/<name>` next to an
/// installed `<prefix>/bin/inboxlite`; `<name>` beside the binary or in any folder above it (a
/// binary in `.build/debug` finds the repository's); then `./<name>`.
public enum ResourceLocator {
    public static func find(_ name: String, explicit: String?, isValid: (URL) -> Bool) -> URL? {
        if let explicit, !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        candidates.append(folder.deletingLastPathComponent().appendingPathComponent("share/inboxlite/\(name)"))
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent(name))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(name))
        return candidates.first(where: isValid)
    }
}

/// The numbered SQL migrations (`--migrations` / `INBOXLITE_MIGRATIONS`).
public enum MigrationsLocator {
    public static func find(explicit: String?) -> URL? {
        ResourceLocator.find("Migrations", explicit: explicit) { folder in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return files.contains { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
        }
    }
}

/// The OpenAPI description served at `/openapi.yaml` (`INBOXLITE_OPENAPI`).
public enum OpenAPILocator {
    public static func find(explicit: String?) -> URL? {
        ResourceLocator.find("openapi.yaml", explicit: explicit) { FileManager.default.isReadableFile(atPath: $0.path) }
    }
}

/// The operator console's files (`INBOXLITE_CONSOLE`).
public enum ConsoleLocator {
    public static func find(explicit: String?) -> URL? {
        ResourceLocator.find("Console", explicit: explicit) {
            FileManager.default.isReadableFile(atPath: $0.appendingPathComponent("index.html").path)
        }
    }
}
