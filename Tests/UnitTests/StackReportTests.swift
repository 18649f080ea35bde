import Channel
import XCTest

@testable import Posix

@_cdecl("supervisor_stack_report_test_marker")
func stackReportTestMarker() -> Int32 { 42 }

/// The hung-worker report's parts: the C handler's packet, the symbol table, the maps, the kernel's
/// view, each on real input and on garbage.
final class StackReportTests: XCTestCase {
    func testTheSignalHandlerSendsTheInterruptedStackAsAChannelMessage() throws {
        let (reader, writer) = try Socket.seqpacketPair()
        defer { reader.close(); writer.close() }
        try StackReporter.install(reportingTo: writer)
        try StackReporter.request(from: Process.id)
        XCTAssertFalse(try Poll.waitReadable([reader], timeout: .seconds(10)).isEmpty)
        guard case let .message(.stackReport(frames)) = try ChannelIO.receive(on: reader) else { return XCTFail("no stack report") }
        XCTAssertFalse(frames.isEmpty)
        XCTAssertLessThanOrEqual(frames.count, StackReporter.maximumFrames)
        var symbolizer = StackSymbolizer(pid: Process.id)
        let names = frames.enumerated().map { symbolizer.name($1, isReturnAddress: $0 > 0, readable: StackSymbolizer.demangle) }
        XCTAssertTrue(names.contains { $0.contains("testTheSignalHandlerSendsTheInterruptedStackAsAChannelMessage") }, "\(names)")
    }

    func testAStackReportRoundTripsAndAWrongCountIsMalformed() {
        let frames: [UInt64] = [0x55d0_c0a0_1234, 0x7f00_0000_0001, 0]
        let bytes = ChannelMessage.stackReport(frames: frames).encoded()
        XCTAssertEqual(bytes.count, 16 + 8 * frames.count)
        XCTAssertEqual(bytes[0], StackReporter.channelTag, "the tag the C handler writes")
        XCTAssertEqual(ChannelMessage(decoding: bytes), .stackReport(frames: frames))
        var wrongCount = bytes
        wrongCount[8] = 5
        XCTAssertNil(ChannelMessage(decoding: wrongCount))
        XCTAssertNil(ChannelMessage(decoding: bytes.dropLast(3)))
        let tooMany = ChannelMessage.stackReport(frames: Array(repeating: 1, count: StackReporter.maximumFrames + 1)).encoded()
        XCTAssertNil(ChannelMessage(decoding: tooMany))
        XCTAssertLessThanOrEqual(ChannelMessage.stackReport(frames: Array(repeating: 1, count: StackReporter.maximumFrames)).encoded().count,
                                 ChannelMessage.maximumSize)
    }

    func testAFunctionOfThisExecutableIsNamedFromItsSymbolTable() {
        let marker: @convention(c) () -> Int32 = stackReportTestMarker
        let address = UInt64(UInt(bitPattern: unsafeBitCast(marker, to: UnsafeRawPointer.self)))
        var symbolizer = StackSymbolizer(pid: Process.id)
        XCTAssertEqual(symbolizer.name(address, isReturnAddress: false), "supervisor_stack_report_test_marker+0x0")
        XCTAssertEqual(symbolizer.name(address + 3, isReturnAddress: true), "supervisor_stack_report_test_marker+0x3")
        XCTAssertEqual(symbolizer.name(8, isReturnAddress: false), "0x8", "outside every mapping")
    }

    func testFilesThatAreNotELFAreRefusedNotTrusted() {
        XCTAssertThrowsError(try ElfSymbols { _, count in Array(repeating: 0x41, count: count) })
        XCTAssertThrowsError(try ElfSymbols { _, _ in [] })
        // An ELF header whose tables point past the end of the file.
        var header = [UInt8](repeating: 0, count: 64)
        header[0...5] = [0x7f, 0x45, 0x4c, 0x46, 2, 1]
        header[0x28] = 0xff; header[0x3a] = 64; header[0x3c] = 3
        XCTAssertThrowsError(try ElfSymbols { offset, count in offset == 0 ? header : [] })
        XCTAssertThrowsError(try ElfSymbols(path: "/proc/self/status"))
        XCTAssertThrowsError(try ElfSymbols(path: "/nonexistent/file"))
    }

    func testMapsLinesAreParsedAndGarbageDropped() {
        let text = """
            55d0c0a00000-55d0c0a3c000 r--p 00000000 08:01 1234                       /usr/bin/supervisor
            55d0c0a3c000-55d0c0b00000 r-xp 0003c000 08:01 1234                       /opt/my app/supervisor
            7ffd5e9de000-7ffd5e9ff000 rw-p 00000000 00:00 0                          [stack]
            zzzz-yyyy r--p 0 0 0 /bad
            7f0000001000-7f0000000000 r--p 00000000 08:01 1 /backwards
            """
        XCTAssertEqual(StackSymbolizer.mappings(parsing: text), [
            .init(start: 0x55d0_c0a0_0000, end: 0x55d0_c0a3_c000, offset: 0, path: "/usr/bin/supervisor"),
            .init(start: 0x55d0_c0a3_c000, end: 0x55d0_c0b0_0000, offset: 0x3c000, path: "/opt/my app/supervisor"),
        ])
        var symbolizer = StackSymbolizer(mappings: StackSymbolizer.mappings(parsing: text))
        XCTAssertEqual(symbolizer.name(0x55d0_c0a0_0010, isReturnAddress: false), "supervisor+0x10", "an unreadable file: file and offset")
    }

    func testTheKernelsViewIsParsedAndGarbageLeftOut() {
        XCTAssertEqual(KernelWait.waitChannel("do_epoll_wait\n"), "do_epoll_wait")
        XCTAssertEqual(KernelWait.waitChannel("0"), "running")
        XCTAssertNil(KernelWait.waitChannel(""))
        XCTAssertEqual(KernelWait.syscall("232 0x3 0x7ffd 0x80 0x0 0x0 0x0 0x7ffd 0x7f12\n"), "232")
        XCTAssertEqual(KernelWait.syscall("running\n"), "running")
        XCTAssertEqual(KernelWait.syscall("-1 0x7ffd5e9fe000 0x55d0c0a01234\n"), "none")
        XCTAssertNil(KernelWait.syscall("garbage"))
        XCTAssertEqual(KernelWait.kernelStack("[<0>] do_epoll_wait+0x5a4/0x6e0\n[<0>] __x64_sys_epoll_wait+0x5f/0x110\n"),
                       "do_epoll_wait<__x64_sys_epoll_wait")
        XCTAssertNil(KernelWait.kernelStack("\n\n"))
        let gone = KernelWait.sample(pid: 0x3fff_fff0)
        XCTAssertEqual(gone, KernelWait(), "a process that is gone: nothing, and no crash")
    }

    func testSwiftNamesAreDemangledAndOthersKept() {
        XCTAssertEqual(StackSymbolizer.demangle("$s4main3fooyyF"), "main.foo() -> ()")
        XCTAssertEqual(StackSymbolizer.demangle("epoll_wait"), "epoll_wait")
        XCTAssertEqual(StackSymbolizer.demangle("$snot-really-mangled"), "$snot-really-mangled")
    }
}
