/// What a request to the metrics address asks for, decided from its head by a tiny, strict
/// parser: the master serves one page and nothing else, so it reads a request line and skips the
/// fields. Pure, so every refusal is a unit test.
enum MetricsRequest: Equatable {
    /// `GET /metrics` (or `HEAD`, which gets the head alone); a query string is ignored.
    case page(headOnly: Bool)
    /// Any other path: 404.
    case notFound
    /// Any other method: 405.
    case methodNotAllowed
    /// Not an HTTP/1.x request line: 400.
    case badRequest
    /// No end of head within `maximumHead` bytes: 431.
    case headTooLarge

    /// A scraper's head is a few hundred bytes; this is plenty and bounds what a client can make
    /// the master hold.
    static let maximumHead = 8192

    /// The outcome once `received` holds a whole head (`\r\n\r\n`), or nil while more may come.
    static func parse(_ received: [UInt8]) -> MetricsRequest? {
        guard let end = headEnd(received) else { return received.count > maximumHead ? .headTooLarge : nil }
        guard end <= maximumHead else { return .headTooLarge }
        guard let lineEnd = received.firstIndex(of: UInt8(ascii: "\r")), received[lineEnd + 1] == UInt8(ascii: "\n") else { return .badRequest }
        let parts = received[..<lineEnd].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, let method = token(parts[0]), isVersion(parts[2]) else { return .badRequest }
        let target = parts[1]
        guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .badRequest }
        let path = target.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard method == "GET" || method == "HEAD" else { return .methodNotAllowed }
        guard path.elementsEqual("/metrics".utf8) else { return .notFound }
        return .page(headOnly: method == "HEAD")
    }

    /// The index just past `\r\n\r\n`, if the head is complete.
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    /// An RFC 9110 token of uppercase letters (every registered method is one), else nil.
    private static func token(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.count <= 16, bytes.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isVersion(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.elementsEqual("HTTP/1.1".utf8) || bytes.elementsEqual("HTTP/1.0".utf8)
    }

    /// The status line and reason a refusal is answered with.
    var refusal: (code: Int, reason: String)? {
        switch self {
        case .page: nil
        case .notFound: (404, "Not Found")
        case .methodNotAllowed: (405, "Method Not Allowed")
        case .badRequest: (400, "Bad Request")
        case .headTooLarge: (431, "Request Header Fields Too Large")
        }
    }
}
