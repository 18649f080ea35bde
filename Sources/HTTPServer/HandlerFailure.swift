import EventLoop
import Logging

/// What a request gets when its handler (or a middleware) throws instead of answering.
///
/// An `HTTPError` is answered as it says (the client's mistake: no log line). A body that could not
/// be read is the client's too: 400 for a malformed one, 408 when it went silent. Anything else is
/// the server's fault: 500 with a body that says no more (the error may hold what a client must not
/// see), and an error log line with the error, the method and the path, so it is not lost.
///
/// A handler that traps (`fatalError`, a failed `precondition`, an overflow) is not caught here: it
/// ends the worker process, and the master replaces it (a crash is logged by the master as the
/// worker's exit by signal). The other requests that worker held are cut.
enum HandlerFailure {
    @LoopActor
    static func response(for error: any Error, to request: Request) -> Response {
        if let error = error as? HTTPError { return error.response }
        if let error = error as? HTTPServerError {
            switch error.kind {
            case let .malformed(parse): return .text("malformed request body: \(parse.reason)\n", status: .badRequest)
            case .timedOut: return .text("request body timeout\n", status: .requestTimeout)
            // Nobody will read these (the client left, or the worker stops), but the server says why.
            case .closed: return .text("the request body ended early\n", status: .badRequest)
            case .cancelled: return .text("the server is shutting down\n", status: .serviceUnavailable)
            }
        }
        Logger.process.error("handler failed", ("method", .string(request.method.rawValue)), ("path", .string(String(request.path))),
                             ("status", 500), ("error", .string(String(describing: error))))
        return .text("internal server error\n", status: .internalServerError)
    }
}
