import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Who on this machine may read the database: its folder (when InboxLite creates it), the
/// database file with its `-wal` and `-shm`, the lock, and backups. Messages are personal data,
/// so by default only the service's own user can; an operator who wants a group (e.g. a backup
/// or reporting user) to read them says so.
public enum FileAccess: String, Sendable, CaseIterable {
    /// Folders 0700, files 0600.
    case owner
    /// Folders 0750, files 0640: the owner's group may read.
    case group

    public var folderMode: mode_t { self == .owner ? 0o700 : 0o750 }
    public var fileMode: mode_t { self == .owner ? 0o600 : 0o640 }

    /// Creates `path` empty with this mode if it does not exist, or sets the mode of the existing
    /// file; the same for its `-wal` and `-shm` when present. SQLite creates those two with the
    /// database file's mode, so a database created here never exists with wider permissions.
    func secureDatabaseFile(_ path: String) throws {
        try secureFile(path, create: true)
        for suffix in ["-wal", "-shm"] { try secureFile(path + suffix, create: false) }
    }

    /// `create`: make the file (empty) if it is missing.
    func secureFile(_ path: String, create: Bool) throws {
        if create {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
            if descriptor >= 0 {
                close(descriptor)
                return
            }
            guard errno == EEXIST else { throw FileAccessError(path: path, reason: String(cString: strerror(errno))) }
        }
        guard chmod(path, fileMode) == 0 || errno == ENOENT else {
            throw FileAccessError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// A database file whose permissions could not be set.
public struct FileAccessError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot set the permissions of \(path): \(reason)" }
}
