/// Where one field line's name and value lie in the head's bytes (value without its OWS).
struct FieldRange: Sendable, Equatable {
    let name: Range<Int>
    let value: Range<Int>
}

/// A request's header fields, in the order received, with the names as sent.
///
/// The fields are kept as ranges into one copy of the head's bytes; a `String` is made only for a
/// field someone reads, so a request whose handler looks at two headers pays for two strings.
/// Lookups compare names in any ASCII letter case (RFC 9110 §5.1) without making a string at all.
/// Values are decoded as UTF-8; obs-text bytes that are not valid UTF-8 (a legacy Latin-1 value)
/// come out as U+FFFD.
public struct HTTPHeaders: Sendable, Equatable, RandomAccessCollection {
    let storage: [UInt8]
    let fields: [FieldRange]

    init(storage: [UInt8], fields: [FieldRange]) {
        self.storage = storage
        self.fields = fields
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }

    /// The field at `position`: its name as sent (any case) and its value without leading or
    /// trailing whitespace.
    public subscript(position: Int) -> (name: String, value: String) {
        let field = fields[position]
        return (string(field.name), string(field.value))
    }

    /// The value of the first field called `name` (any case), or nil.
    public func first(name: String) -> String? {
        firstIndex(name: name).map { string(fields[$0].value) }
    }

    /// The values of every field called `name` (any case), in order.
    public func values(name: String) -> [String] {
        var values: [String] = []
        forEachIndex(name: name) { index in
            values.append(string(fields[index].value))
            return true
        }
        return values
    }

    /// Whether a field called `name` (any case) is present.
    public func contains(name: String) -> Bool { firstIndex(name: name) != nil }

    /// The index of the first field called `name` (any case).
    public func firstIndex(name: String) -> Int? {
        var found: Int?
        forEachIndex(name: name) { index in
            found = index
            return false
        }
        return found
    }

    /// Calls `body` with the index of each field called `name`, while it returns true.
    private func forEachIndex(name: String, _ body: (Int) -> Bool) {
        var wanted = name
        wanted.withUTF8 { wantedBytes in
            storage.withUnsafeBytes { raw in
                for index in fields.indices {
                    let range = fields[index].name
                    guard range.count == wantedBytes.count else { continue }
                    var same = true
                    for offset in 0..<range.count
                    where raw[range.lowerBound + offset].asciiLowercased != wantedBytes[offset].asciiLowercased {
                        same = false
                        break
                    }
                    if same && !body(index) { return }
                }
            }
        }
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: storage[range], as: UTF8.self)
    }
}
