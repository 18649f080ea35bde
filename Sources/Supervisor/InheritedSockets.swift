import Posix

/// A listening socket this process was handed at start-up instead of binding it.
public struct InheritedSocket: Sendable {
    public let fd: FileDescriptor
    /// Its `LISTEN_FDNAMES` entry (a socket unit's `FileDescriptorName=`); `nil` when there were no
    /// names or the entry is empty.
    public let name: String?
    /// The address it is bound to (`getsockname`), which a configured `bind` is matched against;
    /// `nil` when it cannot be told (an abstract or unnamed unix socket, an unknown family).
    public let address: SocketAddress?
}

/// Why the inherited sockets cannot be used. The message names the variable and its value, or the
/// descriptor: a unit file or an upgrade that passes the wrong thing must fail loudly at start-up.
public struct InheritedSocketsError: Error, Equatable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        /// `LISTEN_PID` or `LISTEN_FDS` is not a number in range.
        case invalidVariable
        /// `LISTEN_FDNAMES` does not have one name per descriptor.
        case namesMismatch
        /// A passed descriptor is closed, not a socket, or not listening.
        case notListening
        /// A system call on a passed descriptor failed.
        case systemCall
    }

    public let code: Code
    public let message: String
    public var description: String { message }
}

/// Socket activation: `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES` (`sd_listen_fds(3)`), read by
/// hand. systemd sets them when a socket unit starts the service; our own binary upgrade sets them
/// the same way when the old master execs the new one, so both paths take sockets alike.
///
/// The descriptors are `3 ..< 3 + LISTEN_FDS`, in order, one name each. `LISTEN_PID` says whom they
/// are for: a process that inherited the variables from its parent (anything the master spawns
/// before they are unset) must not take descriptors that are not its own.
public enum InheritedSockets {
    /// `SD_LISTEN_FDS_START`: the first passed descriptor.
    public static let firstDescriptor: CInt = 3
    /// More than this is surely a corrupt variable, not a real configuration.
    public static let maximumCount = 1024
    /// The variables, in the order `unsetEnvironment` removes them.
    public static let variables = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]

    /// The descriptors and names the environment passes to process `pid`; `[]` when it passes none or
    /// passes them to another process. Strict about everything else: numbers are plain decimal
    /// digits, `LISTEN_FDS` is at most 1024, `LISTEN_FDNAMES` has exactly one entry per descriptor.
    public static func parse(environment: [String: String], pid: ProcessID) throws(InheritedSocketsError) -> [(fd: CInt, name: String?)] {
        try parse(environment: environment, pid: pid, start: firstDescriptor)
    }

    /// `parse` with the first descriptor chosen: tests pass a range of their own, since 3 and up are
    /// already taken in a test process.
    static func parse(environment: [String: String], pid: ProcessID, start: CInt) throws(InheritedSocketsError) -> [(fd: CInt, name: String?)] {
        guard let pidText = environment["LISTEN_PID"] else { return [] }
        guard let listenPID = decimal(pidText), listenPID > 0, listenPID <= Int(Int32.max) else {
            throw InheritedSocketsError(code: .invalidVariable, message: "LISTEN_PID='\(pidText)' is not a positive decimal integer")
        }
        guard listenPID == Int(pid) else { return [] }
        guard let countText = environment["LISTEN_FDS"] else { return [] }
        guard let count = decimal(countText), count <= maximumCount else {
            throw InheritedSocketsError(
                code: .invalidVariable, message: "LISTEN_FDS='\(countText)' is not a decimal integer from 0 to \(maximumCount)")
        }
        guard count > 0 else { return [] }
        var names = [String?](repeating: nil, count: count)
        if let namesText = environment["LISTEN_FDNAMES"] {
            let entries = namesText.split(separator: ":", omittingEmptySubsequences: false)
            guard entries.count == count else {
                throw InheritedSocketsError(
                    code: .namesMismatch,
                    message: "LISTEN_FDNAMES='\(namesText)' has \(entries.count) name\(entries.count == 1 ? "" : "s") but LISTEN_FDS=\(count) "
                        + "passes \(count) descriptor\(count == 1 ? "" : "s")")
            }
            names = entries.map { $0.isEmpty ? nil : String($0) }
        }
        return names.enumerated().map { (fd: start + CInt($0.offset), name: $0.element) }
    }

    /// The sockets the environment passes to process `pid`, checked and made ours: every descriptor
    /// must be a listening socket (else nothing is changed and the error names it); each then gets
    /// `FD_CLOEXEC`, so only a deliberate hand-over passes it on across an `exec`, and `O_NONBLOCK`,
    /// which workers' accept loops rely on (systemd passes blocking sockets unless the socket unit
    /// says `NonBlocking=true`). Call it before anything could open a descriptor, and
    /// `unsetEnvironment()` after.
    public static func take(environment: [String: String], pid: ProcessID) throws(InheritedSocketsError) -> [InheritedSocket] {
        try take(environment: environment, pid: pid, start: firstDescriptor)
    }

    static func take(environment: [String: String], pid: ProcessID, start: CInt) throws(InheritedSocketsError) -> [InheritedSocket] {
        let passed = try parse(environment: environment, pid: pid, start: start)
        let count = passed.count
        // Check all before changing any: a refused hand-over leaves the descriptors as they came.
        for (fd, _) in passed {
            let descriptor = FileDescriptor(rawValue: fd)
            func refuse(_ reason: String) -> InheritedSocketsError {
                InheritedSocketsError(code: .notListening, message: "fd \(fd) (LISTEN_FDS=\(count)) is not a listening socket: \(reason)")
            }
            let status: FileStatus
            do {
                status = try descriptor.status()
            } catch {
                throw refuse(error.errno == .badFileDescriptor ? "it is not open" : "\(error)")
            }
            guard status.kind == .socket else { throw refuse("it is not a socket") }
            let listening: Bool
            do {
                listening = try Socket.isListening(descriptor)
            } catch {
                throw refuse("\(error)")
            }
            guard listening else { throw refuse("the socket does not listen (SO_ACCEPTCONN=0)") }
        }
        var sockets: [InheritedSocket] = []
        for (fd, name) in passed {
            let descriptor = FileDescriptor(rawValue: fd)
            do {
                try descriptor.setCloseOnExec(true)
                try descriptor.setNonBlocking(true)
            } catch {
                throw InheritedSocketsError(code: .systemCall, message: "fd \(fd) (LISTEN_FDS=\(count)): \(error)")
            }
            var address = try? Socket.localAddress(of: descriptor)
            // An abstract or unnamed unix socket decodes to an empty path, which no `bind` can name.
            if address == .unix(path: "") { address = nil }
            sockets.append(InheritedSocket(fd: descriptor, name: name, address: address))
        }
        return sockets
    }

    /// The three variables as this process's real environment has them (`getenv`), for `take`.
    public static var processEnvironment: [String: String] { Environment.values(variables) }

    /// Removes the three variables (`unsetenv`), so that no child of ours, and no binary upgrade that
    /// does not set them afresh, takes them as meant for itself. `unsetenv` is not thread-safe: call
    /// it while the process has one thread.
    public static func unsetEnvironment() {
        for name in variables { try? Environment.remove(name) }
    }

    /// Plain decimal digits only: no sign, no blanks, no hex; `nil` beyond ten digits.
    private static func decimal(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
    }
}
