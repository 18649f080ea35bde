import EventLoop
import HTTP

extension Request {
    /// The request's header fields: `request.headers["content-type"]`, in any letter case.
    public var headers: HTTPHeaders { head.headers }
}

extension HTTPHeaders {
    /// The value of the first field called `name`, in any letter case (RFC 9110 §5.1), as a
    /// `String`; nil when there is none. For a field sent more than once, `values(name:)`.
    public subscript(_ name: String) -> String? { first(name: name) }
}
