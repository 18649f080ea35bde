import Glibc

/// What `stat(2)` says of a file, the fields this program acts on.
public struct FileStatus: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case regular, directory, symbolicLink, socket, fifo, characterDevice, blockDevice, unknown
    }

    public let kind: Kind
    public let size: Int
    /// `st_mtim`, the last change of the content: a file's validators (`ETag`, `Last-Modified`).
    public let modifiedSeconds: Int
    public let modifiedNanoseconds: Int
    /// `st_ino`: tells a file from another one renamed over the same path.
    public let inode: UInt64

    public init(kind: Kind, size: Int, modifiedSeconds: Int, modifiedNanoseconds: Int, inode: UInt64) {
        self.kind = kind
        self.size = size
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
        self.inode = inode
    }

    init(_ raw: stat) {
        let kind: Kind = switch raw.st_mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symbolicLink
        case S_IFSOCK: .socket
        case S_IFIFO: .fifo
        case S_IFCHR: .characterDevice
        case S_IFBLK: .blockDevice
        default: .unknown
        }
        self.init(kind: kind, size: Int(raw.st_size), modifiedSeconds: Int(raw.st_mtim.tv_sec),
                  modifiedNanoseconds: Int(raw.st_mtim.tv_nsec), inode: UInt64(raw.st_ino))
    }
}

extension FileSystem {
    /// `stat(2)`: follows symlinks.
    public static func status(atPath path: String) throws(SystemError) -> FileStatus {
        var raw = stat()
        do {
            _ = try syscall("stat") { stat(path, &raw) }
        } catch {
            throw error.on(path)
        }
        return FileStatus(raw)
    }

    /// `fstatat(2)`: `name` relative to `directory`; a symlink itself rather than its target
    /// unless `followingSymlinks`.
    public static func status(of name: String, in directory: FileDescriptor, followingSymlinks: Bool = true) throws(SystemError) -> FileStatus {
        var raw = stat()
        do {
            _ = try syscall("fstatat") { fstatat(directory.rawValue, name, &raw, followingSymlinks ? 0 : AT_SYMLINK_NOFOLLOW) }
        } catch {
            throw error.on(name)
        }
        return FileStatus(raw)
    }
}

extension FileDescriptor {
    /// `fstat(2)`. The error names the descriptor (`fstat(fd 3) failed: EBADF ...`).
    public func status() throws(SystemError) -> FileStatus {
        var raw = stat()
        do {
            _ = try syscall("fstat") { fstat(rawValue, &raw) }
        } catch {
            throw error.on(description)
        }
        return FileStatus(raw)
    }
}
