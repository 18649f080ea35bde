import EventLoop
import HTTP

/// Reading requests: parser events from the lent input buffer, reading the socket as needed, and
/// the next head, without an async call when it is in hand already.
extension HTTPConnection {
    /// Why no further input came.
    enum Failure: Error { case closed, timedOut, draining, cancelled, idle }

    /// What `nextEventNow` came to: an event (or why none will come), or a read to wait for.
    enum Step {
        case event(Result<RequestParser.Event, Failure>)
        /// Nothing more is buffered: read, waiting up to this long.
        case read(wait: Duration)
    }

    /// The next parser event, reading as needed, each read waiting up to `timeout`. Reading a
    /// `head`, once part of it has arrived, reads wait only until `headDeadline` (set then, if
    /// not yet): the whole head must arrive by it, however it is trickled (slowloris).
    func nextEvent(timeout: Duration, head: Bool = false) async -> Result<RequestParser.Event, Failure> {
        while true {
            switch nextEventNow(timeout: timeout, head: head) {
            case let .event(result):
                return result
            case let .read(wait):
                let free = UnsafeMutableRawBufferPointer(rebasing: input[end...])
                switch await connection.read(into: free, timeout: wait) {
                case let .bytes(count): end += count
                case .closed: return .failure(.closed)
                case .timedOut: return .failure(.timedOut)
                case .draining: return .failure(.draining)
                case .cancelled: return .failure(.cancelled)
                }
            }
        }
    }

    /// `nextEvent` as far as it goes without waiting: the event, or the read it must wait for
    /// (the buffers taken for it). Leaves nothing half-done: calling it again goes on from the
    /// same state.
    func nextEventNow(timeout: Duration, head: Bool) -> Step {
        while true {
            if lent != nil {
                let output = lent.unsafelyUnwrapped.parser.parse(UnsafeRawBufferPointer(rebasing: input[start..<end]))
                start += output.consumed
                if case .needMore = output.event {} else { return .event(.success(output.event)) }
                if output.consumed > 0 { parserUntouched = false }  // empty lines before a request
                if start == end {
                    start = 0
                    end = 0
                } else if end == input.count {
                    compact()
                }
            }
            if head && start == end && parserIsIdle {
                // Nothing in hand between requests: read what is there, else the connection waits
                // for it without this task or the buffers.
                if connection.mayHaveInput {
                    takeBuffers()
                    switch connection.readIfAvailable(into: input) {
                    case let .bytes(count)?: end += count; continue
                    case .closed?: return .event(.failure(.closed))
                    case .timedOut?: return .event(.failure(.timedOut))
                    case .draining?: return .event(.failure(.draining))
                    case .cancelled?: return .event(.failure(.cancelled))
                    case nil: break
                    }
                }
                giveBuffers()
                return .event(.failure(.idle))
            }
            var wait = timeout
            if head, !(parserIsIdle && start == end) {
                let now = EventLoop.current.now
                if headDeadline == 0 { headDeadline = now &+ UInt64(max(0, settings.headerTimeout.nanoseconds)) }
                guard now < headDeadline else { return .event(.failure(.timedOut)) }
                wait = .nanoseconds(Int64(headDeadline - now))
            }
            takeBuffers()
            return .read(wait: wait)
        }
    }

    /// What the connection has of its next request.
    enum NextHead {
        case head(RequestHead)
        /// Nothing of it has arrived yet: the connection waits for it without a task.
        case idle
        /// Part of it has arrived, and the rest may take this long at most (`--header-timeout`).
        case partial(wait: Duration)
        /// There is none to serve (closed, timed out, malformed: answered already).
        case none
    }

    /// The next head, when it is in hand already: parsed from what is buffered or from what one
    /// read finds, with no wait and nothing to answer; nil sends the caller to `readHead`, which
    /// takes it from there (nothing was consumed here that it would need). The common case, so a
    /// request costs no async call (and no task switch) to get its head.
    func headInHand() -> NextHead? {
        while true {
            switch nextEventNow(timeout: settings.keepAliveTimeout, head: true) {
            case let .event(.success(.head(head))): return .head(head)
            case .event(.success(.end)):
                parserUntouched = true  // the end of a body-less request just served
            case .event(.failure(.idle)): return .idle
            case let .read(wait):
                if let waiting = readMoreOfHead(wait: wait) { return waiting }
            case .event: return nil
            }
        }
    }

    /// The rest of a head (between requests nothing else is read): nil when bytes were read, to be
    /// parsed; else what `headInHand` answers: `.partial` (wait for them without a task) when none
    /// are there, nil when the read ended otherwise (closed, cancelled), for `readHead` to read
    /// again and answer. Out of line: the common request never gets here.
    @inline(never)
    private func readMoreOfHead(wait: Duration) -> NextHead?? {
        guard connection.mayHaveInput else { return .partial(wait: wait) }
        switch connection.readIfAvailable(into: UnsafeMutableRawBufferPointer(rebasing: input[end...])) {
        case let .bytes(count)?:
            end += count
            return nil
        case nil: return .partial(wait: wait)
        case .closed?, .timedOut?, .draining?, .cancelled?: return .some(nil)
        }
    }

    /// Reads the next request head, waiting for it as needed; answers when there is none to
    /// serve.
    ///
    /// `--header-timeout` is one deadline for the whole head, from the accept for a connection's
    /// first request (set by `run`) and from the head's first byte for the next ones; the wait for
    /// that first byte on a kept-alive connection is `--keepalive-timeout`.
    func readHead(firstRequest: Bool) async -> NextHead {
        let timeout = firstRequest ? settings.headerTimeout : settings.keepAliveTimeout
        while true {
            switch await nextEvent(timeout: timeout, head: true) {
            case let .success(.head(head)):
                return .head(head)
            case .success(.end):
                parserUntouched = true
                continue  // the end of a body-less request just served
            case let .success(.error(error)):
                await answer(error)
                return .none
            case .success(.body), .success(.needMore):
                await connection.lingeringClose()  // cannot happen between requests
                return .none
            case .failure(.idle):
                return .idle
            case let .failure(failure):
                // A client that sent part of a head and went silent gets 408; an idle one is just closed.
                if failure == .timedOut && !parserIsIdle {
                    await answerWithoutRequest(.text("request timeout\n", status: .requestTimeout), keepAlive: false)
                    await connection.lingeringClose()
                }
                return .none
            }
        }
    }
}
