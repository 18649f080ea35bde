import CLinux
import Glibc

/// Anonymous memory shared with every process forked after it is mapped
/// (`mmap(MAP_SHARED | MAP_ANONYMOUS)`): how the master and its workers share counters without a
/// server process or a file. Never unmapped: it lives as long as the process.
public struct SharedMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) throws(SystemError) {
        let pointer = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let pointer, pointer != MAP_FAILED else { throw SystemError("mmap", errno: .current) }
        base = pointer
        self.byteCount = byteCount
    }
}
