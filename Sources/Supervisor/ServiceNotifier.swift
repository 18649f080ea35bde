import Posix

/// systemd's readiness protocol (`sd_notify(3)`), written by hand: no libsystemd in the process.
///
/// systemd names a unix datagram socket in `NOTIFY_SOCKET`; a service tells it its state by sending
/// one datagram of `KEY=value` lines to it (`READY=1`, `RELOADING=1`, `STOPPING=1`, `STATUS=…`,
/// `MAINPID=…`). Outside systemd the variable is unset and there is no notifier.
///
/// Each `send` opens its own socket and closes it: a notification is rare (start, reload, stop, a
/// binary upgrade), a value holding no descriptor is freely `Sendable` and copyable, and nothing is
/// left open for `fork` to hand to workers or for a binary upgrade to leak. It is what libsystemd does.
/// The socket is non-blocking and the send uses `MSG_DONTWAIT`: when systemd's queue is full the
/// call fails with `EAGAIN` instead of stalling the master.
public struct ServiceNotifier: Sendable {
    /// `NOTIFY_SOCKET` as systemd wrote it (`/run/systemd/notify`, `@abstract`): for log lines.
    public let notifySocket: String
    /// `sun_path`'s bytes: the path (NUL-terminated), or NUL and the name for an abstract socket.
    private let sunPath: [UInt8]

    /// The notifier `NOTIFY_SOCKET` asks for, or `nil` when it is unset, empty, or not a form this
    /// code speaks: an absolute path, or `@name` for the abstract namespace (`@` stands for the
    /// leading NUL of `sun_path`). systemd ≥ 254 may also name a `vsock:` address, used only for
    /// virtual machines; it is not supported here.
    public init?(environment: [String: String]) {
        guard let value = environment["NOTIFY_SOCKET"], !value.isEmpty, !value.utf8.contains(0) else { return nil }
        let capacity = Socket.unixPathCapacity
        let bytes = Array(value.utf8)
        if bytes.first == UInt8(ascii: "/") {
            // Room for the terminating NUL, as `bind` would need.
            guard bytes.count < capacity else { return nil }
            sunPath = bytes + [0]
        } else if bytes.first == UInt8(ascii: "@") {
            // An abstract name is exactly its bytes, no terminator: the length says where it ends.
            guard bytes.count > 1, bytes.count <= capacity else { return nil }
            sunPath = [0] + bytes.dropFirst()
        } else {
            return nil
        }
        notifySocket = value
    }

    /// The notifier of this process's real environment (`getenv("NOTIFY_SOCKET")`).
    public static func fromProcessEnvironment() -> ServiceNotifier? {
        ServiceNotifier(environment: Environment.values(["NOTIFY_SOCKET"]))
    }

    /// `READY=1`: start-up (or a reload) is complete. `mainPID` goes in the same datagram, ahead of
    /// it (systemd reads `MAINPID=` before `READY=1`): a master started by a binary upgrade says
    /// both at once, so the unit is never ready with the wrong main process.
    public func ready(status: String? = nil, mainPID: ProcessID? = nil) throws(SystemError) {
        var assignments: [(String, String)] = []
        if let mainPID { assignments.append(("MAINPID", String(mainPID))) }
        assignments.append(("READY", "1"))
        if let status { assignments.append(("STATUS", status)) }
        try send(assignments)
    }

    /// `RELOADING=1` with `MONOTONIC_USEC`: a reload started; `ready()` ends it. systemd ≥ 253 wants
    /// the timestamp for `Type=notify-reload`, to tell this reload from an earlier one.
    public func reloading(status: String? = nil) throws(SystemError) {
        var assignments = [("RELOADING", "1"), ("MONOTONIC_USEC", String(Instant.now.nanoseconds / 1000))]
        if let status { assignments.append(("STATUS", status)) }
        try send(assignments)
    }

    /// `STOPPING=1`: the service is shutting down. Not for a master that exits after handing over to
    /// a new binary: the unit goes on running.
    public func stopping() throws(SystemError) {
        try send([("STOPPING", "1")])
    }

    /// `STATUS=…`: one line that `systemctl status` shows.
    public func status(_ text: String) throws(SystemError) {
        try send([("STATUS", text)])
    }

    /// `MAINPID=N`: the process systemd should now treat as the service's main one.
    public func mainPID(_ pid: ProcessID) throws(SystemError) {
        try send([("MAINPID", String(pid))])
    }

    /// Sends every assignment in one datagram, `KEY=value\n` each, so systemd applies them together.
    /// Fails with `EAGAIN` rather than block when systemd's queue is full; nothing is sent for none.
    public func send(_ assignments: [(String, String)]) throws(SystemError) {
        guard !assignments.isEmpty else { return }
        do {
            try Socket.sendDatagram(Array(Self.message(assignments).utf8), toUnixSocket: sunPath)
        } catch {
            throw error.on("NOTIFY_SOCKET=\(notifySocket)")
        }
    }

    /// The datagram's text. A line break in a key or value would start a new assignment, and systemd
    /// drops a whole datagram that contains NUL, so LF, CR and NUL become spaces.
    static func message(_ assignments: [(String, String)]) -> String {
        var text = ""
        for (key, value) in assignments {
            text += "\(oneLine(key))=\(oneLine(value))\n"
        }
        return text
    }

    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else { return text }
        var result = ""
        result.unicodeScalars.append(contentsOf: text.unicodeScalars.map { $0 == "\n" || $0 == "\r" || $0 == "\0" ? " " : $0 })
        return result
    }
}
