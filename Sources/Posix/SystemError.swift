import Glibc

/// An `errno` value with a readable name. Only the values this project reacts to get a name;
/// every other value still prints as `errno N (strerror text)`.
public struct Errno: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// `EINTR`: a signal interrupted the call; the funnel retries it.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EAGAIN`/`EWOULDBLOCK`: a non-blocking call would block.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `EBADF`
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// `EADDRINUSE`
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    /// `EMFILE`: this process is out of file descriptors.
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// `ENFILE`: the whole system is out of file descriptors.
    public static let tooManyOpenFilesInSystem = Errno(rawValue: ENFILE)
    /// `ECONNRESET`
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// `EPIPE`
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `ECONNABORTED`: a connection was reset while it sat in the accept queue.
    public static let connectionAborted = Errno(rawValue: ECONNABORTED)
    /// `ECHILD`: no child left to wait for.
    public static let noChildren = Errno(rawValue: ECHILD)
    /// `ESRCH`: no such process.
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    /// `ENOENT`
    public static let noSuchFile = Errno(rawValue: ENOENT)
    /// `ECONNREFUSED`
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `ENOSYS`
    public static let notImplemented = Errno(rawValue: ENOSYS)
    /// `EEXIST`
    public static let fileExists = Errno(rawValue: EEXIST)

    /// The current thread's `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    public var name: String {
        switch rawValue {
        case EINTR: "EINTR"
        case EAGAIN: "EAGAIN"
        case EBADF: "EBADF"
        case EADDRINUSE: "EADDRINUSE"
        case EADDRNOTAVAIL: "EADDRNOTAVAIL"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case EMFILE: "EMFILE"
        case ENFILE: "ENFILE"
        case ECONNRESET: "ECONNRESET"
        case EPIPE: "EPIPE"
        case ECONNABORTED: "ECONNABORTED"
        case ECHILD: "ECHILD"
        case ESRCH: "ESRCH"
        case ENOENT: "ENOENT"
        case ECONNREFUSED: "ECONNREFUSED"
        case ENOSYS: "ENOSYS"
        case EEXIST: "EEXIST"
        case EINVAL: "EINVAL"
        case ENOMEM: "ENOMEM"
        case ENOSPC: "ENOSPC"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case ETIMEDOUT: "ETIMEDOUT"
        case ENOTCONN: "ENOTCONN"
        default: "errno \(rawValue)"
        }
    }

    public var description: String {
        guard let text = strerror(rawValue) else { return name }
        return "\(name) (\(String(cString: text)))"
    }
}

/// A failed system call: which call, on what, and the `errno` it returned.
///
/// Log lines and error messages print it as `bind(127.0.0.1:80) failed: EACCES (Permission denied)`,
/// so an operator sees the syscall and the object without reading code.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let syscall: String
    public let errno: Errno
    /// What the call acted on (an address, a path, a pid), when that helps the reader.
    public let object: String?

    public init(_ syscall: String, errno: Errno, object: String? = nil) {
        self.syscall = syscall
        self.errno = errno
        self.object = object
    }

    public func on(_ object: String) -> SystemError { SystemError(syscall, errno: errno, object: object) }

    public var description: String {
        if let object { return "\(syscall)(\(object)) failed: \(errno)" }
        return "\(syscall)() failed: \(errno)"
    }
}
