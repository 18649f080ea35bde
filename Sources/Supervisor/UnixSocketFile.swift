import Posix

/// A unix listening socket put in place atomically: bound at a temporary name beside `path`, then
/// renamed over it, so a stale file (a crashed master's) or a live one (the old master's during a
/// binary upgrade) is replaced, never refused and never missing. The inode tells later whether the
/// file at `path` is still this socket (`ControlServer`, `MetricsServer` remove it at exit only then).
enum UnixSocketFile {
    static func temporaryPath(for path: String) -> String { "\(path).\(Process.id).tmp" }

    /// The listening descriptor and the inode of its file, now at `path`. Nothing is left open or on
    /// disk when it throws.
    static func listenReplacing(_ path: String, backlog: Int32) throws(SystemError) -> (fd: FileDescriptor, inode: UInt64) {
        let temporary = temporaryPath(for: path)
        try? FileSystem.remove(temporary)
        let fd = try Socket.listen(on: .unix(path: temporary), backlog: backlog)
        do {
            let inode = try FileSystem.status(atPath: temporary).inode
            try FileSystem.rename(temporary, to: path)
            return (fd, inode)
        } catch {
            fd.close()
            try? FileSystem.remove(temporary)
            throw error
        }
    }
}
