import Crypto
import Foundation

/// One numbered SQL file from `Migrations/`, e.g. `0001_initial.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file, recorded when applied: a shipped migration must never change.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).hexString
    }

    /// Reads every `NNNN_name.sql` file in `directory`, sorted by number.
    public static func load(from directory: URL) throws(MigrationError) -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .directoryUnreadable(directory.path)
        }
        var migrations: [Migration] = []
        for file in files where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw .badFileName(file)
            }
            guard let sql = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8) else {
                throw .directoryUnreadable(directory.appendingPathComponent(file).path)
            }
            migrations.append(Migration(version: version, name: String(stem), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (first, second) in zip(migrations, migrations.dropFirst()) where first.version == second.version {
            throw .duplicateVersion(first.version)
        }
        guard !migrations.isEmpty else { throw .directoryUnreadable(directory.path) }
        return migrations
    }
}

extension Migration {
    /// The migrations a database with `applied` (version → checksum) still needs, in order. Each
    /// engine's migrator asks this one question: an applied file that changed, or a database newer
    /// than the code, stops it, because either means the tables may not be what this build expects.
    public static func pending(_ migrations: [Migration], applied: [Int: String]) throws(MigrationError) -> [Migration] {
        let codeVersion = migrations.last?.version ?? 0
        if let newest = applied.keys.max(), newest > codeVersion {
            throw .databaseNewerThanCode(databaseVersion: newest, codeVersion: codeVersion)
        }
        for migration in migrations {
            if let checksum = applied[migration.version], checksum != migration.checksum {
                throw .changedAfterApply(version: migration.version, name: migration.name)
            }
        }
        return migrations.filter { applied[$0.version] == nil }
    }
}

/// Why the schema could not be brought up to date; each case reads as a one-line startup error.
public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case directoryUnreadable(String)
    case badFileName(String)
    case duplicateVersion(Int)
    case changedAfterApply(version: Int, name: String)
    case databaseNewerThanCode(databaseVersion: Int, codeVersion: Int)
    case failed(name: String, message: String)

    public var description: String {
        switch self {
        case .directoryUnreadable(let path):
            return "no migrations found at \(path) (set --migrations or INBOXLITE_MIGRATIONS)"
        case .badFileName(let file):
            return "migration file \(file) is not named NNNN_name.sql"
        case .duplicateVersion(let version):
            return "two migration files share the number \(version)"
        case .changedAfterApply(let version, let name):
            return "migration \(name) (version \(version)) was changed after it was applied; add a new migration instead"
        case .databaseNewerThanCode(let databaseVersion, let codeVersion):
            return "the database is at schema version \(databaseVersion) but this build knows only up to \(codeVersion); upgrade inboxlite"
        case .failed(let name, let message):
            return "migration \(name) failed: \(message)"
        }
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal. (Written in place: it runs for every webhook's duplicate key.)
    public var hexString: String {
        withContiguousStorageIfAvailable(lowercaseHex) ?? Array(self).hexString
    }
}

extension Digest {
    /// Lowercase hexadecimal of the digest, from its bytes (a digest is not contiguous storage).
    public var hexString: String {
        withUnsafeBytes { lowercaseHex(UnsafeBufferPointer(start: $0.baseAddress?.assumingMemoryBound(to: UInt8.self), count: $0.count)) }
    }
}

private func lowercaseHex(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    func digit(_ value: UInt8) -> UInt8 { value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10 }
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        for (index, byte) in bytes.enumerated() {
            out[2 * index] = digit(byte >> 4)
            out[2 * index + 1] = digit(byte & 0x0F)
        }
        return bytes.count * 2
    }
}
