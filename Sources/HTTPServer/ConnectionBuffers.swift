import EventLoop
import HTTP

/// The memory an HTTP connection needs only while it has bytes in hand, lent per loop: the input
/// buffer and the parser (whose head buffer and field list keep their capacity) are given back
/// when a keep-alive connection goes idle between requests and taken again when its next bytes
/// arrive, so an idle connection holds neither (nginx frees an idle connection's buffers the same
/// way). The response head is encoded into one buffer for all: the first write copies whatever
/// the kernel did not take before it waits (`Connection.write`), so nothing of it outlives the
/// synchronous part of the write.
///
/// Free lists recycle, so a request allocates nothing for these in steady state; each is capped,
/// so a burst's buffers are freed once it is over.
@LoopActor
final class ConnectionBuffers {
    static let shared = ConnectionBuffers()
    nonisolated static let headSize = 4096
    nonisolated static let bodySize = 64 * 1024

    /// Input buffers for heads (and small bodies); 256 kept: 1 MiB.
    let heads = BufferPool(size: headSize, retained: 256)
    /// Input buffers for bodies that are read; 8 kept: 512 KiB.
    let bodies = BufferPool(size: bodySize, retained: 8)
    /// Every response head, encoded just before its write.
    let output = ByteBuffer()
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) private var parsers: [ParserBox] = []
    /// Parsers kept at most (each about 1.6 KiB with its buffers).
    static let retainedParsers = 256
    /// Request objects (with their bodies) of connections gone idle, for the next to read one.
    @exclusivity(unchecked) private var requests: [Request] = []
    /// Request objects kept at most (each about 400 B with its body).
    static let retainedRequests = 256

    private init() {
        parsers.reserveCapacity(Self.retainedParsers)
        requests.reserveCapacity(Self.retainedRequests)
    }

    /// A request object from the free list, if one is there (`HTTPConnection.nextRequest`).
    @inline(__always)
    func takeRequest() -> Request? { requests.popLast() }

    /// Takes back a request object that nothing but its connection held, cleared.
    @inline(__always)
    func giveRequest(_ request: Request) {
        if requests.count < Self.retainedRequests { requests.append(request) }
    }

    /// Parsers waiting in the free list.
    var idleParsers: Int { parsers.count }

    /// An idle parser with `limits`: a recycled one, or a new one when none is free.
    @inline(__always)
    func takeParser(limits: RequestParser.Limits) -> ParserBox {
        guard let box = parsers.popLast() else { return ParserBox(limits: limits) }
        if box.parser.limits != limits { box.parser = RequestParser(limits: limits) }  // another service's
        return box
    }

    /// Takes back a parser that is between requests (`isIdle`) and holds nothing of a client's.
    @inline(__always)
    func giveParser(_ box: ParserBox) {
        if parsers.count < Self.retainedParsers { parsers.append(box) }
    }
}

/// A parser on the heap, so that lending it moves a reference, not the value with its buffers.
final class ParserBox {
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to this field overlaps another: the parser is only used synchronously.
    @exclusivity(unchecked) var parser: RequestParser

    init(limits: RequestParser.Limits) {
        parser = RequestParser(limits: limits)
    }
}
