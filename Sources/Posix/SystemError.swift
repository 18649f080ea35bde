import Glibc

/// An `errno` value with a readable name: it prints as `ENOTDIR (Not a directory)`, the name
/// (every value a file, socket or process call can return here has one) and `strerror`'s text.
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
    /// `ENOTDIR`: a path component (or an `O_DIRECTORY` target) is not a directory.
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// `EISDIR`: a file operation named a directory.
    public static let isDirectory = Errno(rawValue: EISDIR)
    /// `EACCES`: permission bits refuse it.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `EPERM`: not allowed to this process, whatever the permission bits say.
    public static let notPermitted = Errno(rawValue: EPERM)
    /// `EXDEV`: across file systems, or (`openat2` with `RESOLVE_BENEATH`) out of the directory.
    public static let crossDevice = Errno(rawValue: EXDEV)
    /// `ELOOP`: too many symlinks, or a symlink where `O_NOFOLLOW` refuses one.
    public static let symlinkLoop = Errno(rawValue: ELOOP)
    /// `ENOSPC`: the file system is full.
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// `EDQUOT`: the user's disk quota is used up.
    public static let diskQuotaExceeded = Errno(rawValue: EDQUOT)
    /// `ETIMEDOUT`
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `EMSGSIZE`: a datagram too large to go whole.
    public static let messageTooLong = Errno(rawValue: EMSGSIZE)
    /// `EINVAL`
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `ENOBUFS`: the kernel is short of socket buffers.
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    /// `ENOMEM`
    public static let outOfMemory = Errno(rawValue: ENOMEM)
    /// `EPROTO`: accept(2)'s "the connection failed before it was taken" on Linux.
    public static let protocolError = Errno(rawValue: EPROTO)

    /// The current thread's `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The symbolic name (`ENOENT`), as in `errno(3)`; a value outside this table prints as `errno N`.
    public var name: String {
        switch rawValue {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case ENXIO: "ENXIO"
        case E2BIG: "E2BIG"
        case ENOEXEC: "ENOEXEC"
        case EBADF: "EBADF"
        case ECHILD: "ECHILD"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EFAULT: "EFAULT"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case EXDEV: "EXDEV"
        case ENODEV: "ENODEV"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case ENFILE: "ENFILE"
        case EMFILE: "EMFILE"
        case ENOTTY: "ENOTTY"
        case ETXTBSY: "ETXTBSY"
        case EFBIG: "EFBIG"
        case ENOSPC: "ENOSPC"
        case ESPIPE: "ESPIPE"
        case EROFS: "EROFS"
        case EMLINK: "EMLINK"
        case EPIPE: "EPIPE"
        case ERANGE: "ERANGE"
        case EDEADLK: "EDEADLK"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case ENOLCK: "ENOLCK"
        case ENOSYS: "ENOSYS"
        case ENOTEMPTY: "ENOTEMPTY"
        case ELOOP: "ELOOP"
        case ENOMSG: "ENOMSG"
        case EOVERFLOW: "EOVERFLOW"
        case EILSEQ: "EILSEQ"
        case ENOTSOCK: "ENOTSOCK"
        case EDESTADDRREQ: "EDESTADDRREQ"
        case EMSGSIZE: "EMSGSIZE"
        case EPROTOTYPE: "EPROTOTYPE"
        case ENOPROTOOPT: "ENOPROTOOPT"
        case EPROTONOSUPPORT: "EPROTONOSUPPORT"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EAFNOSUPPORT: "EAFNOSUPPORT"
        case EADDRINUSE: "EADDRINUSE"
        case EADDRNOTAVAIL: "EADDRNOTAVAIL"
        case ENETDOWN: "ENETDOWN"
        case ENETUNREACH: "ENETUNREACH"
        case ECONNABORTED: "ECONNABORTED"
        case ECONNRESET: "ECONNRESET"
        case ENOBUFS: "ENOBUFS"
        case EISCONN: "EISCONN"
        case ENOTCONN: "ENOTCONN"
        case ESHUTDOWN: "ESHUTDOWN"
        case ETIMEDOUT: "ETIMEDOUT"
        case ECONNREFUSED: "ECONNREFUSED"
        case EHOSTDOWN: "EHOSTDOWN"
        case EHOSTUNREACH: "EHOSTUNREACH"
        case EALREADY: "EALREADY"
        case EINPROGRESS: "EINPROGRESS"
        case ESTALE: "ESTALE"
        case EDQUOT: "EDQUOT"
        case ECANCELED: "ECANCELED"
        case EOWNERDEAD: "EOWNERDEAD"
        case ENOTRECOVERABLE: "ENOTRECOVERABLE"
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
