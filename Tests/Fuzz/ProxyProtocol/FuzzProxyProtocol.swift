// libFuzzer target: ProxyProtocol.parse (compiled with ProxyProtocol.swift alone by scripts/fuzz:
// the parser needs nothing else of HTTPServer).
//
// The connection calls `parse` on the bytes received so far, again after every read, so:
// a header's length is inside the input; every shorter prefix of a header needs more (never
// invalid, never another header); bytes after a header do not change it; invalid stays invalid
// as more bytes arrive. A source address is printable and an IP address (the connection logs it
// and matches it against --forwarded-allow-ips).
import Glibc

private func parse(_ input: UnsafeRawBufferPointer, _ count: Int) -> ProxyProtocol.Result {
    // Each call gets a buffer of exactly `count` bytes, so a read past the end is caught.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
    defer { copy.deallocate() }
    if count > 0 { copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<count])) }
    return ProxyProtocol.parse(UnsafeRawBufferPointer(copy))
}

private func checkSource(_ source: String) {
    fuzzCheck(source.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "source \(source.debugDescription) is not printable ASCII")
    var v4 = in_addr()
    var v6 = in6_addr()
    fuzzCheck(inet_pton(AF_INET, source, &v4) == 1 || inet_pton(AF_INET6, source, &v6) == 1, "source \(source.debugDescription) is not an IP address")
}

/// The prefix lengths below `end` to try: all of the first 200, then a stride and the last one
/// (a v2 header may be 64 KiB long).
private func prefixes(below end: Int) -> [Int] {
    guard end > 200 else { return Array(0..<end) }
    return Array(0..<200) + Array(stride(from: 200, to: end - 1, by: 61)) + [end - 1]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyProtocol(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let whole = parse(input, input.count)
    switch whole {
    case .needMore:
        // Every prefix needs more too (a prefix that was a header or invalid would have been acted on).
        for count in prefixes(below: input.count) {
            let result = parse(input, count)
            fuzzCheck(result == .needMore, "prefix of \(count) bytes: \(result), whole input: needMore")
        }
    case let .header(length, source):
        fuzzCheck(length > 0 && length <= input.count, "header length \(length) of \(input.count) bytes")
        if let source { checkSource(source) }
        for count in prefixes(below: length) {
            let result = parse(input, count)
            fuzzCheck(result == .needMore, "prefix of \(count) bytes: \(result), header of \(length)")
        }
        for count in length..<input.count where count < length + 64 {
            let result = parse(input, count)
            fuzzCheck(result == whole, "\(count) bytes: \(result), all \(input.count): \(whole)")
        }
    case .invalid:
        // Once invalid, more bytes cannot help; and some prefix was already invalid or needed more.
        for count in prefixes(below: input.count) {
            let result = parse(input, count)
            if case .header = result { fuzzCheck(false, "prefix of \(count) bytes: \(result), whole input: \(whole)") }
        }
    }
    return 0
}
