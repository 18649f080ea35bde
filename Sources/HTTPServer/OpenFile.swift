import Posix

/// An open file that responses send from (`Response.Body.file`). It owns its descriptor and closes
/// it exactly once, when the last holder lets go: after the response was sent, failed half-way, or
/// was never sent at all (the client left while the handler worked, or a handler dropped it), so no
/// path can leak the descriptor or close it twice.
///
/// A cache (the file server's) may keep one and hand it to many responses at once: `sendfile(2)`
/// is given its own offset each time and never moves the file's, so they do not disturb each other,
/// and a response costs a retain, not a `dup`.
public final class OpenFile: Sendable {
    /// The descriptor, valid for as long as this object lives.
    public let fd: FileDescriptor

    /// Takes ownership of an open descriptor: nothing else may close it.
    public init(taking fd: FileDescriptor) {
        self.fd = fd
    }

    /// Opens `path` for reading (close-on-exec).
    public convenience init(path: String) throws(SystemError) {
        self.init(taking: try FileSystem.open(path))
    }

    /// The file's size now (`fstat(2)`): the `length` of a response that sends all of it.
    public func size() throws(SystemError) -> Int {
        try fd.status().size
    }

    deinit { fd.close() }
}
