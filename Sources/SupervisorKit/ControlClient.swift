import Posix
import Settings
import Supervisor

/// The command-line end of the control socket: `supervisor status|reload|stop|scale`.
///
/// Finds the master by its pidfile, sends one command line, prints the reply. Exit status: 0 done,
/// 1 no master running or it refused, 3 `stop` timed out.
enum ControlClient {
    static let replyTimeout = Duration.seconds(10)

    static func run(_ request: ControlRequest, programName: String) -> CInt {
        func fail(_ message: String, code: CInt = 1) -> CInt {
            try? FileDescriptor.standardError.writeAll("\(programName): \(message)\n")
            return code
        }
        let pidfile = Pidfile(path: request.pidfile)
        guard let pid = pidfile.read() else {
            return fail("no master is running: \(request.pidfile) does not exist or names no pid")
        }
        guard Process.isAlive(pid) else {
            return fail("no master is running: \(request.pidfile) names pid \(pid), which is gone")
        }
        let socketPath = ControlCommand.socketPath(forPidfile: request.pidfile)
        let reply: String
        do {
            reply = try exchange(request.command.line, at: socketPath)
        } catch {
            return fail("master pid \(pid) is running but its control socket does not answer: \(error)")
        }
        if reply.hasPrefix("ok\n") {
            try? FileDescriptor.standardOutput.writeAll(String(reply.dropFirst(3)))
        } else {
            let message = reply.hasPrefix("error: ") ? String(reply.dropFirst(7)) : "unexpected reply: \(reply)"
            return fail(message.hasSuffix("\n") ? String(message.dropLast()) : message)
        }
        guard request.command == .stop else { return 0 }
        // Wait for the master to be gone: it exits once every worker has drained.
        let deadline = Instant.now + request.timeout
        while !Process.hasExited(pid) {
            if Instant.now >= deadline {
                return fail("master pid \(pid) is still running after \(request.timeout.secondsText)s", code: 3)
            }
            Process.sleep(for: .milliseconds(20))
        }
        // A master that was killed leaves its pidfile behind; one that exited removed it.
        pidfile.remove(ifOwnedBy: pid)
        try? FileDescriptor.standardOutput.writeAll("stopped\n")
        return 0
    }

    /// Sends `line`, reads the whole reply (the master closes the connection after it).
    static func exchange(_ line: String, at path: String) throws(SystemError) -> String {
        let fd = try Socket.connect(to: .unix(path: path), timeout: replyTimeout)
        return try fd.closeAfter { (fd) throws(SystemError) -> String in
            try fd.writeAll(line + "\n")
            var reply: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            let deadline = Instant.now + replyTimeout
            while true {
                let remaining = deadline.since(.now)
                var ready: [FileDescriptor] = []
                if remaining > .zero { ready = try Poll.waitReadable([fd], timeout: remaining) }
                guard !ready.isEmpty else {
                    throw SystemError("read", errno: .timedOut, object: path)
                }
                let count = try buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try fd.read(into: raw) } }.get()
                guard let count, count > 0 else { break }
                reply += buffer[..<count]
            }
            return String(decoding: reply, as: UTF8.self)
        }
    }
}
