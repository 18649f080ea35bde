import CLinux
import Glibc

/// File system calls by path, or by name under a directory descriptor (the `*at` calls), each
/// retried on `EINTR` and throwing a `SystemError` that names the path (for an `*at` call, the
/// name relative to the directory: the caller knows the directory's path, the descriptor does not).
public enum FileSystem {
    /// `open(2)` flags. Read-only unless `.writeOnly`; `O_CLOEXEC` always, so no descriptor leaks
    /// into a program a binary upgrade `exec`s.
    public struct OpenOptions: OptionSet, Sendable {
        public let rawValue: CInt
        public init(rawValue: CInt) { self.rawValue = rawValue }

        /// `O_WRONLY`
        public static let writeOnly = OpenOptions(rawValue: O_WRONLY)
        /// `O_CREAT`: with `permissions` (less the umask).
        public static let create = OpenOptions(rawValue: O_CREAT)
        /// `O_EXCL`: with `.create`, fail with `EEXIST` rather than open an existing file.
        public static let exclusive = OpenOptions(rawValue: O_EXCL)
        /// `O_TRUNC`
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        /// `O_APPEND`: every write goes to the end, even with other writers (log files).
        public static let append = OpenOptions(rawValue: O_APPEND)
        /// `O_DIRECTORY`: fail with `ENOTDIR` unless it is a directory.
        public static let directory = OpenOptions(rawValue: O_DIRECTORY)
        /// `O_NOFOLLOW`: fail with `ELOOP` if the last component is a symlink.
        public static let noFollow = OpenOptions(rawValue: O_NOFOLLOW)
        /// `O_NONBLOCK`: opening a FIFO does not wait for a writer.
        public static let nonBlocking = OpenOptions(rawValue: O_NONBLOCK)
        /// `O_NOCTTY`: a terminal opened by name does not become the controlling one.
        public static let noControllingTerminal = OpenOptions(rawValue: O_NOCTTY)

        var flags: CInt { rawValue | O_CLOEXEC }
    }

    /// `open(2)`.
    public static func open(_ path: String, _ options: OpenOptions = [], permissions: UInt32 = 0o644) throws(SystemError) -> FileDescriptor {
        do {
            return FileDescriptor(rawValue: try syscall("open") { Glibc.open(path, options.flags, permissions) })
        } catch {
            throw error.on(path)
        }
    }

    /// `openat(2)`: `name` relative to `directory`.
    public static func open(_ name: String, in directory: FileDescriptor, _ options: OpenOptions = [],
                            permissions: UInt32 = 0o644) throws(SystemError) -> FileDescriptor {
        do {
            return FileDescriptor(rawValue: try syscall("openat") { openat(directory.rawValue, name, options.flags, permissions) })
        } catch {
            throw error.on(name)
        }
    }

    /// `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` (Linux 5.6): fails with `EXDEV`
    /// when resolving `name` (through `..` or a symlink) would leave `directory`, so the kernel
    /// keeps a served folder's bounds with no race between a check and the open. `ENOSYS` on older
    /// kernels. Not for creating files (no permissions are passed).
    public static func openBeneath(_ name: String, in directory: FileDescriptor, _ options: OpenOptions = []) throws(SystemError) -> FileDescriptor {
        do {
            return FileDescriptor(rawValue: try syscall("openat2") { clinux_open_beneath(directory.rawValue, name, options.flags) })
        } catch {
            throw error.on(name)
        }
    }

    /// The whole content of the file at `path`, at most `limit` bytes: a caller that must refuse a
    /// larger file asks for one byte more than it accepts and checks the count.
    public static func readFile(_ path: String, limit: Int) throws(SystemError) -> [UInt8] {
        let file = try open(path)
        defer { file.close() }
        do {
            return try file.readToEnd(limit: limit)
        } catch {
            throw error.on(path)
        }
    }

    /// `rename(2)`: atomically replaces `newPath`, if it exists. The error names both paths.
    public static func rename(_ path: String, to newPath: String) throws(SystemError) {
        do {
            _ = try syscall("rename") { Glibc.rename(path, newPath) }
        } catch {
            throw error.on("\(path), \(newPath)")
        }
    }

    /// `renameat(2)` within one directory.
    public static func rename(_ name: String, to newName: String, in directory: FileDescriptor) throws(SystemError) {
        do {
            _ = try syscall("renameat") { renameat(directory.rawValue, name, directory.rawValue, newName) }
        } catch {
            throw error.on("\(name), \(newName)")
        }
    }

    /// `unlink(2)`.
    public static func remove(_ path: String) throws(SystemError) {
        do {
            _ = try syscall("unlink") { unlink(path) }
        } catch {
            throw error.on(path)
        }
    }

    /// `unlinkat(2)`: removes the file `name` in `directory`.
    public static func remove(_ name: String, in directory: FileDescriptor) throws(SystemError) {
        do {
            _ = try syscall("unlinkat") { unlinkat(directory.rawValue, name, 0) }
        } catch {
            throw error.on(name)
        }
    }

    /// What `access(2)` checks for.
    public struct Access: OptionSet, Sendable {
        public let rawValue: CInt
        public init(rawValue: CInt) { self.rawValue = rawValue }
        /// `R_OK`
        public static let read = Access(rawValue: R_OK)
        /// `W_OK`
        public static let write = Access(rawValue: W_OK)
        /// `X_OK`
        public static let execute = Access(rawValue: X_OK)
    }

    /// `access(2)`: throws unless this process may `access` the path (with the real ids; `F_OK`,
    /// mere existence, when `access` is empty). A trailing `/` makes it refuse anything but a directory.
    public static func checkAccess(_ path: String, _ access: Access) throws(SystemError) {
        do {
            _ = try syscall("access") { Glibc.access(path, access.rawValue) }
        } catch {
            throw error.on(path)
        }
    }

    /// Runs `body` with the file creation mask set to `mask` (`umask(2)`), then restores the old
    /// one: a socket file is then created with the right mode from the start, with no window in
    /// which others could connect. The mask is per process: call it while only one thread creates files.
    public static func withCreationMask<Result, Failure: Error>(_ mask: UInt32, _ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        let old = umask(mask)
        defer { umask(old) }
        return try body()
    }
}
