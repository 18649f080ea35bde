/// An error a handler (or a middleware) throws to answer with a status of its choosing: the
/// client's mistake, said plainly. Thrown by the body and JSON helpers too (413 over the limit,
/// 400 for malformed JSON). Anything else a handler throws is the server's fault: 500, and an
/// error log line (`RouterResponder`).
///
///     guard let user = request.headers["authorization"] else { throw HTTPError(.unauthorized, "who are you?") }
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Status
    /// Sent as the body, one line of text.
    public let reason: String

    public init(_ status: Status, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status): \(reason)" }

    /// The answer: the reason as a line of text.
    public var response: Response { .text(reason + "\n", status: status) }
}
