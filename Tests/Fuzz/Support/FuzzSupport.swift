// Shared by every fuzz target (compiled into each by scripts/fuzz; not a SwiftPM target).
import Glibc

/// Fails the run when an invariant does not hold: the message goes to stderr and `abort()` makes
/// libFuzzer report a crash and save the input as a reproducer.
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    var text = "fuzz invariant failed (\(file):\(line)): \(message())\n"
    text.withUTF8 { utf8 in _ = write(2, utf8.baseAddress, utf8.count) }
    abort()
}

/// FNV-1a of the input: a seed that changes with every mutation, so the random splits differ from
/// input to input while any one input always gets the same ones (a crash reproduces).
func fuzzSeed(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    return hash
}

// SeededGenerator (SplitMix64) is Tests/TestSupport/SeededGenerator.swift, compiled in by scripts/fuzz.

/// Up to `maximum` distinct cut offsets strictly inside `0..<count`, increasing.
func fuzzCuts(_ count: Int, maximum: Int, _ random: inout SeededGenerator) -> [Int] {
    guard count > 1 else { return [] }
    let wanted = Int.random(in: 1...maximum, using: &random)
    return Array(Set((0..<wanted).map { _ in Int.random(in: 1..<count, using: &random) })).sorted()
}

/// Calls `body` with each piece of `input` cut at `cuts`, each piece in a buffer of its own that
/// is freed right after: a parser that kept a pointer into an earlier piece, or read past the end
/// of one, is caught by AddressSanitizer.
func fuzzPieces(_ input: UnsafeRawBufferPointer, cuts: [Int], _ body: (UnsafeRawBufferPointer) -> Bool) {
    var start = 0
    for end in cuts + [input.count] {
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: end - start, alignment: 1)
        defer { piece.deallocate() }
        if end > start { piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[start..<end])) }
        start = end
        guard body(UnsafeRawBufferPointer(piece)) else { return }
    }
}

/// `bytes` as a readable, escaped string for a failure message.
func fuzzShow(_ bytes: some Sequence<UInt8>) -> String {
    String(decoding: Array(bytes), as: UTF8.self).debugDescription
}
