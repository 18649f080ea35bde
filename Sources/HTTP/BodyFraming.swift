/// How the end of a request's body is found (RFC 9112 §6.3), decided from the head alone.
///
/// (`noBody` rather than `none`, so that comparing an optional framing with `.none` can never be
/// mistaken for `Optional.none`.)
public enum BodyFraming: Sendable, Equatable {
    /// Neither `Content-Length` nor `Transfer-Encoding`: the request ends with its head.
    case noBody
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`: chunks until a zero-size chunk and the trailer section.
    case chunked
}
