import HTTP

/// Request objects recycled: a connection keeps its last `Request` (and its `RequestBody`) for
/// the next request when nothing else holds them, and gives it to the loop's free list when it
/// goes idle, so a keep-alive request allocates neither in steady state and an idle connection
/// holds neither. A handler that keeps either past its response keeps it unchanged; the
/// connection then makes new ones.
extension HTTPConnection {
    /// The request object for `head`: the spare one, or a new one.
    func nextRequest(_ head: consuming RequestHead, hasBody: Bool) -> Request {
        let spare = spareRequest ?? buffers.takeRequest()
        guard let request = spare else { return Request(head: consume head, body: RequestBody(source: self, empty: !hasBody)) }
        spareRequest = nil
        request.reuse(head: consume head, bodyIsEmpty: !hasBody, for: self)
        return request
    }

    /// Gives the spare request object to the loop's free list: an idle connection holds none.
    func giveSpareRequest() {
        guard let request = spareRequest else { return }
        spareRequest = nil
        buffers.giveRequest(request)
    }

    /// Keeps `request` for the next request if nothing else holds it or its body (a handler may
    /// keep either past its response, and must then see them unchanged). Its head is let go, so
    /// the parser's next head reuses the buffers that head shares. One that is kept elsewhere is
    /// detached from this connection, which goes on to other requests and may soon be gone.
    func keepForNext(_ request: consuming Request) {
        var request = request
        guard isKnownUniquelyReferenced(&request), request.holdsBodyAlone else { return request.detach() }
        request.clear()
        spareRequest = request
    }
}
