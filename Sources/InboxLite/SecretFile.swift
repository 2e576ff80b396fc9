import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A generated secret kept in a file next to the database (mode 0600), so a first run needs no
/// configuration and later runs keep the same secret.
public enum SecretFile {
    /// Reads the secret at `path`, creating it with 32 random bytes (hex) if it does not exist.
    /// Returns the secret and whether it was created now.
    /// A missing folder is created with `folderMode` (the database's folder mode).
    public static func loadOrCreate(at path: String, folderMode: mode_t = 0o700) throws -> (secret: String, created: Bool) {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let secret = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if !secret.isEmpty { return (secret, false) }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: Int(folderMode)])
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        // Created with 0600 from the start: the secret never exists with wider permissions.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { close(descriptor) }
        let line = Array((secret + "\n").utf8)
        guard write(descriptor, line, line.count) == line.count else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return (secret, true)
    }
}
