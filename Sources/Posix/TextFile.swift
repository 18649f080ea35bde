import Glibc

/// Small text files read whole: `/proc` and `/sys` entries, where one `read` call per buffer
/// is the interface and a missing file is a normal answer ("no such limit").
public enum TextFile {
    /// The file's contents as UTF-8 (invalid bytes repaired), at most `limit` bytes.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(SystemError) -> String {
        let raw = try syscall("open") { open(path, O_RDONLY | O_CLOEXEC) }
        let fd = FileDescriptor(rawValue: raw)
        defer { fd.close() }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { chunk.deallocate() }
        var bytes: [UInt8] = []
        while bytes.count < limit {
            let count = try syscall("read") { Glibc.read(raw, chunk.baseAddress, chunk.count) }
            if count == 0 { break }
            bytes += chunk[..<min(count, limit - bytes.count)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Like `read`, but nil when the file cannot be read, for whatever reason.
    public static func contents(_ path: String) -> String? { try? read(path) }
}
