/// Small text files read whole: `/proc` and `/sys` entries, where one `read` call per buffer
/// is the interface and a missing file is a normal answer ("no such limit").
public enum TextFile {
    /// The file's contents as UTF-8 (invalid bytes repaired), at most `limit` bytes.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(SystemError) -> String {
        String(decoding: try FileSystem.readFile(path, limit: limit), as: UTF8.self)
    }

    /// Like `read`, but nil when the file cannot be read, for whatever reason.
    public static func contents(_ path: String) -> String? { try? read(path) }
}
