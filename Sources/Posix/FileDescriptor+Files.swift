import Glibc

/// Calls on a descriptor of a regular file, made on a blocking descriptor (the master, the command
/// line, or a worker's blocking pool), never on the event loop.
extension FileDescriptor {
    /// Reads from the current offset until end of file, at most `limit` bytes, in as many `read(2)`
    /// calls as it takes (a pipe or a `/proc` file gives one piece per call).
    public func readToEnd(limit: Int) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        while bytes.count < limit {
            let wanted = min(chunk.count, limit - bytes.count)
            let count = try syscall("read") { Glibc.read(rawValue, chunk.baseAddress, wanted) }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return bytes
    }

    /// `pread(2)`: `count` bytes from `offset`, without moving the descriptor's offset (a cached
    /// descriptor is shared); fewer only if the file ends first.
    public func read(count: Int, at offset: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let filled = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) -> Int in
                var filled = 0
                while filled < count {
                    let rest = UnsafeMutableRawBufferPointer(rebasing: raw[filled...])
                    let got = try syscall("pread") { pread(rawValue, rest.baseAddress, rest.count, off_t(offset + filled)) }
                    if got == 0 { break }
                    filled += got
                }
                return filled
            }
        }
        let count = try filled.get()
        return count == bytes.count ? bytes : Array(bytes[..<count])
    }

    /// `fsync(2)`: the data (and, on a directory, a rename into it) is on the disk when it returns.
    public func synchronize() throws(SystemError) {
        _ = try syscall("fsync") { fsync(rawValue) }
    }
}
