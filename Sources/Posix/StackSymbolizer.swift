import Glibc

/// Names the return addresses of a stack report: each address is found in the process's
/// `/proc/PID/maps`, the file mapped there is read for its symbols (`ElfSymbols`, once per file),
/// and the load base is that file's mapping at offset 0.
public struct StackSymbolizer {
    public struct Mapping: Equatable, Sendable {
        public let start: UInt64
        public let end: UInt64
        public let offset: UInt64
        public let path: String
    }

    let mappings: [Mapping]
    private var files: [String: ElfSymbols?] = [:]

    public init(mappings: [Mapping]) { self.mappings = mappings }

    /// From `/proc/<pid>/maps`; with no readable map, every frame is a bare address.
    public init(pid: ProcessID) {
        self.init(mappings: Self.mappings(parsing: TextFile.contents("/proc/\(pid)/maps") ?? ""))
    }

    /// `start-end perms offset dev inode path` lines; anonymous mappings and lines that do not
    /// parse are dropped.
    public static func mappings(parsing text: String) -> [Mapping] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            // The path is the rest of the line, after a run of blanks; it may itself hold spaces.
            guard fields.count == 6 else { return nil }
            let path = fields[5].trimmingBlanks
            guard path.hasPrefix("/") else { return nil }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16), start < end,
                  let offset = UInt64(fields[2], radix: 16) else { return nil }
            return Mapping(start: start, end: end, offset: offset, path: path)
        }
    }

    /// `function+0x1c` (the name passed through `readable`), or `file+0x1234` where the file has no
    /// symbol for it, or `0x7f…` outside any file. A return address (every frame but the first)
    /// points after its call, possibly past the end of a function that never returns, so the byte
    /// before it is looked up.
    public mutating func name(_ address: UInt64, isReturnAddress: Bool, readable: (String) -> String = { $0 }) -> String {
        let lookup = isReturnAddress && address > 0 ? address - 1 : address
        guard let mapping = mappings.first(where: { $0.start <= lookup && lookup < $0.end }) else {
            return "0x" + String(address, radix: 16)
        }
        let file = mapping.path.split(separator: "/").last.map(String.init) ?? mapping.path
        let base = mappings.first { $0.path == mapping.path && $0.offset == 0 }?.start ?? mapping.start
        if files[mapping.path] == nil { files[mapping.path] = .some(try? ElfSymbols(path: mapping.path)) }
        if let symbols = files[mapping.path] ?? nil {
            let bias = symbols.isRelocatable ? base &- symbols.firstLoadAddress : 0
            if let found = symbols.function(containing: lookup &- bias) {
                return readable(found.name) + "+0x" + String(found.offset + (lookup == address ? 0 : 1), radix: 16)
            }
        }
        return file + "+0x" + String(address &- base, radix: 16)
    }
}

/// `swift_demangle`, the Swift runtime's own demangler (exported C API of libswiftCore, linked
/// statically or not): `$s18supervisor_fixture11spinForeveryyF` → `supervisor_fixture.spinForever() -> ()`.
@_silgen_name("swift_demangle")
private func swiftDemangle(_ mangled: UnsafePointer<CChar>?, _ length: Int, _ output: UnsafeMutablePointer<CChar>?,
                           _ outputSize: UnsafeMutablePointer<Int>?, _ flags: UInt32) -> UnsafeMutablePointer<CChar>?

extension StackSymbolizer {
    /// The readable form of a Swift symbol; other names (C, C++) are returned as they are.
    public static func demangle(_ name: String) -> String {
        guard name.hasPrefix("$s") || name.hasPrefix("_$s") || name.hasPrefix("$S") || name.hasPrefix("_T0") else { return name }
        // No output buffer: the runtime returns a malloc'd copy, whatever its length.
        let result = name.withCString { swiftDemangle($0, name.utf8.count, nil, nil, 0) }
        guard let result else { return name }
        defer { free(result) }
        return String(cString: result)
    }
}
