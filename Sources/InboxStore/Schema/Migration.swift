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
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Digest {
    /// Lowercase hexadecimal of the digest.
    public var hexString: String { Array(self).hexString }
}
