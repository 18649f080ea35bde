/// What an operator asks a running master (`supervisor status|reload|stop|scale`), as sent over its
/// control socket: one line of text, answered by one reply.
public enum ControlCommand: Equatable, Sendable {
    case status(json: Bool)
    case reload
    case stop
    case scale(ScaleTarget)
    /// Out of the load balancer's rotation (health checks fail, requests still served), or back in.
    case drain
    case undrain

    public enum ScaleTarget: Equatable, Sendable {
        /// `+2` / `-1`
        case by(Int)
        /// `6`
        case to(Int)

        /// `+N`, `-N` or `N`, N at most `Configuration.maximumWorkers`: anything else is nil.
        public init?(parsing text: some StringProtocol) {
            var digits = Substring(text)
            var sign = 0
            if digits.hasPrefix("+") { sign = 1; digits = digits.dropFirst() }
            else if digits.hasPrefix("-") { sign = -1; digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.count <= 4, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = Int(digits), value <= Configuration.maximumWorkers else { return nil }
            switch sign {
            case 0: self = .to(value)
            default: self = .by(sign * value)
            }
        }

        public var text: String {
            switch self {
            case let .by(delta): delta >= 0 ? "+\(delta)" : "\(delta)"
            case let .to(count): "\(count)"
            }
        }
    }

    /// The line sent on the socket (without its newline).
    public var line: String {
        switch self {
        case let .status(json): json ? "status json" : "status"
        case .reload: "reload"
        case .stop: "stop"
        case let .scale(target): "scale \(target.text)"
        case .drain: "drain"
        case .undrain: "undrain"
        }
    }

    /// Parses a line received on the socket; nil for anything that is not exactly a command.
    public init?(line: some StringProtocol) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        switch (words.first, words.count) {
        case ("status", 1): self = .status(json: false)
        case ("status", 2) where words[1] == "json": self = .status(json: true)
        case ("reload", 1): self = .reload
        case ("stop", 1): self = .stop
        case ("drain", 1): self = .drain
        case ("undrain", 1): self = .undrain
        case ("scale", 2):
            guard let target = ScaleTarget(parsing: words[1]) else { return nil }
            self = .scale(target)
        default: return nil
        }
    }

    /// Where the control socket of the master using `pidfile` lives: beside it, `.pid` replaced by
    /// `.sock` (`/run/supervisor/supervisor.pid` → `/run/supervisor/supervisor.sock`).
    public static func socketPath(forPidfile pidfile: String) -> String {
        (pidfile.hasSuffix(".pid") ? String(pidfile.dropLast(4)) : pidfile) + ".sock"
    }
}
