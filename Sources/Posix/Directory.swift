import Glibc

/// Reading a directory's names (`fdopendir`, `readdir`, `closedir`).
public enum Directory {
    /// The names in `directory` (`.` and `..` left out), read through a fresh open of it
    /// (`openat(fd, ".")`), never a `dup`: a dup shares the directory offset, so two listings at
    /// once would each see part of the names, and the caller's own offset would move.
    public static func entries(of directory: FileDescriptor) throws(SystemError) -> Entries {
        try Entries(FileSystem.open(".", in: directory, .directory), name: ".")
    }

    /// The names in the directory at `path`.
    public static func entries(atPath path: String) throws(SystemError) -> Entries {
        try Entries(FileSystem.open(path, .directory), name: path)
    }

    /// Every name in `directory`, or the error that stopped the reading.
    public static func names(of directory: FileDescriptor) throws(SystemError) -> [String] {
        let entries = try entries(of: directory)
        let names = Array(entries)
        if let failure = entries.failure { throw failure }
        return names
    }

    /// A single-pass sequence of names over an open directory stream, which is closed as soon as
    /// the iteration ends, and when the sequence goes away (a loop that breaks early): no path
    /// through a caller leaks the descriptor.
    public final class Entries: Sequence, IteratorProtocol {
        private var stream: OpaquePointer?
        private let name: String
        /// The `readdir` failure that ended the iteration early, if one did.
        public private(set) var failure: SystemError?

        /// Takes `descriptor` (a directory opened for reading): it is closed with the stream.
        init(_ descriptor: FileDescriptor, name: String) throws(SystemError) {
            guard let stream = fdopendir(descriptor.rawValue) else {
                let error = SystemError("fdopendir", errno: .current, object: name)
                descriptor.close()
                throw error
            }
            self.stream = stream
            self.name = name
        }

        public func next() -> String? {
            while let stream {
                // readdir returns NULL at the end and on failure alike; only errno tells them apart.
                errno = 0
                guard let entry = readdir(stream) else {
                    if errno != 0 { failure = SystemError("readdir", errno: .current, object: name) }
                    close()
                    return nil
                }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { return name }
            }
            return nil
        }

        /// True once the stream (and its descriptor) is closed.
        public var isClosed: Bool { stream == nil }

        private func close() {
            if let stream { closedir(stream) }
            stream = nil
        }

        deinit { close() }
    }
}
