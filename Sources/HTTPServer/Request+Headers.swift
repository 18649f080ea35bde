import EventLoop
import HTTP

extension HTTPHeaders {
    /// The value of the first field called `name`, in any letter case (RFC 9110 §5.1), as a
    /// `String`; nil when there is none. For a field sent more than once, `values(name:)`.
    public subscript(_ name: String) -> String? { first(name: name) }
}
