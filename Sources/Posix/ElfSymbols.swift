/// The function symbols of an ELF64 file (`.symtab`, else `.dynsym`), to name the addresses of a
/// hung worker's stack report.
///
/// Read from the file rather than found with `dladdr(3)`: `dladdr` only sees exported dynamic
/// symbols, and a Swift executable (static or not) exports almost none of its own functions. A
/// stripped file has no `.symtab`; its frames are then named by file and offset only.
public struct ElfSymbols: Sendable {
    struct Function: Sendable {
        let start: UInt64
        let size: UInt64
        let nameOffset: Int
    }

    /// Sorted by `start`.
    let functions: [Function]
    let names: [UInt8]
    /// `ET_DYN` (a PIE or a shared library: loaded at a random base) or not (`ET_EXEC`: at its
    /// link addresses).
    public let isRelocatable: Bool
    /// The lowest `PT_LOAD` address, rounded down to a page: where the mapping at file offset 0 begins.
    public let firstLoadAddress: UInt64

    public struct FormatError: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "not a readable ELF64 file: \(reason)" }
    }

    /// Parses through `read(offset, count)`, which returns at most `count` bytes at `offset` of the file.
    public init(reading read: (Int, Int) throws -> [UInt8]) throws {
        let header = try read(0, 64)
        guard header.count == 64, header[0..<4].elementsEqual([0x7f, 0x45, 0x4c, 0x46]) else { throw FormatError(reason: "no ELF magic") }
        guard header[4] == 2, header[5] == 1 else { throw FormatError(reason: "not 64-bit little-endian") }
        let type = Self.integer(header, 16, 2)
        isRelocatable = type == 3
        let programOffset = Self.integer(header, 0x20, 8), programSize = Self.integer(header, 0x36, 2), programCount = Self.integer(header, 0x38, 2)
        let sectionOffset = Self.integer(header, 0x28, 8), sectionSize = Self.integer(header, 0x3a, 2), sectionCount = Self.integer(header, 0x3c, 2)
        guard programSize >= 56 || programCount == 0, sectionSize >= 64, sectionCount > 0, sectionCount < 65_280,
              programOffset < 1 << 40, sectionOffset < 1 << 40 else { throw FormatError(reason: "bad header tables") }

        var lowest = UInt64.max
        let programs = try read(Int(programOffset), Int(programSize * programCount))
        for index in 0..<Int(programCount) where programs.count >= (index + 1) * Int(programSize) {
            let at = index * Int(programSize)
            if Self.integer(programs, at, 4) == 1 { lowest = min(lowest, Self.integer(programs, at + 0x10, 8)) }
        }
        firstLoadAddress = lowest == .max ? 0 : lowest & ~0xfff

        let sections = try read(Int(sectionOffset), Int(sectionSize * sectionCount))
        guard sections.count == Int(sectionSize * sectionCount) else { throw FormatError(reason: "section headers cut short") }
        func section(_ index: Int) -> (type: UInt64, offset: UInt64, size: UInt64, link: UInt64) {
            let at = index * Int(sectionSize)
            return (Self.integer(sections, at + 4, 4), Self.integer(sections, at + 0x18, 8),
                    Self.integer(sections, at + 0x20, 8), Self.integer(sections, at + 0x28, 4))
        }
        let all = (0..<Int(sectionCount)).map(section)
        // SHT_SYMTAB (2), else SHT_DYNSYM (11).
        guard let table = all.first(where: { $0.type == 2 }) ?? all.first(where: { $0.type == 11 }),
              table.link < UInt64(all.count) else { throw FormatError(reason: "no symbol table") }
        let strings = all[Int(table.link)]
        // A bound on what a report reads: a symbol table of 4 M functions.
        guard table.size <= 96 << 20, strings.size <= 256 << 20, table.offset < 1 << 40, strings.offset < 1 << 40 else {
            throw FormatError(reason: "symbol table too large")
        }
        let symbols = try read(Int(table.offset), Int(table.size))
        names = try read(Int(strings.offset), Int(strings.size))
        var functions: [Function] = []
        for at in stride(from: 0, to: symbols.count - 23, by: 24) {
            // STT_FUNC, defined (a section index), at a non-zero address.
            guard symbols[at + 4] & 0xf == 2, Self.integer(symbols, at + 6, 2) != 0 else { continue }
            let start = Self.integer(symbols, at + 8, 8)
            guard start != 0 else { continue }
            functions.append(Function(start: start, size: Self.integer(symbols, at + 16, 8), nameOffset: Int(Self.integer(symbols, at, 4))))
        }
        self.functions = functions.sorted { $0.start < $1.start }
    }

    /// Reads the file at `path` with `pread(2)`.
    public init(path: String) throws {
        let fd = try FileSystem.open(path)
        defer { fd.close() }
        try self.init { offset, count in try fd.read(count: count, at: offset) }
    }

    /// The function containing `address` (a link-time address: the process's minus the load bias)
    /// and the offset into it.
    public func function(containing address: UInt64) -> (name: String, offset: UInt64)? {
        var low = 0, high = functions.count
        while low < high {
            let middle = (low + high) / 2
            if functions[middle].start <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let function = functions[low - 1]
        let offset = address - function.start
        // The address must be inside. A size of zero (hand-written assembly, some exported
        // symbols of a stripped file) says nothing, so only a near address is given its name:
        // a stripped file's far-away `main` must not claim every frame after it.
        let inside = function.size > 0 ? offset < function.size : offset < 0x1000
        guard inside, function.nameOffset < names.count else { return nil }
        let name = names[function.nameOffset...].prefix { $0 != 0 }
        return (String(decoding: name, as: UTF8.self), offset)
    }

    /// Little-endian, `width` bytes at `offset`; 0 past the end (callers check sizes first).
    static func integer(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
        guard offset >= 0, offset + width <= bytes.count else { return 0 }
        var value: UInt64 = 0
        for index in (0..<width).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }
}
