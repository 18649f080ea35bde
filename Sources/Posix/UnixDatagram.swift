import CLinux
import Glibc

extension Socket {
    /// `sun_path`'s size: the most bytes a unix socket address holds, a path's terminating NUL included.
    public static let unixPathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Sends `message` as one datagram to the unix socket whose `sun_path` is `sunPath`: a path and
    /// its NUL, or a NUL and an abstract name (whose length is exactly its bytes). From a fresh
    /// non-blocking socket, closed after, with `MSG_DONTWAIT`: a full queue fails with `EAGAIN`
    /// rather than block. A datagram goes whole or fails (`EMSGSIZE` if the kernel took less).
    public static func sendDatagram(_ message: [UInt8], toUnixSocket sunPath: [UInt8]) throws(SystemError) {
        guard sunPath.count <= unixPathCapacity else { throw SystemError("sendto", errno: .invalidArgument) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in sunPath.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + sunPath.count)
        let flags = CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue)
        let fd = FileDescriptor(rawValue: try syscall("socket") { socket(AF_UNIX, flags, 0) })
        let sent: Result<Int, SystemError> = fd.closeAfter { (fd) throws(Never) in
            message.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                        Result { () throws(SystemError) in
                            try syscall("sendto") {
                                sendto(fd.rawValue, bytes.baseAddress, bytes.count, CInt(MSG_DONTWAIT) | CInt(MSG_NOSIGNAL), target, length)
                            }
                        }
                    }
                }
            }
        }
        guard try sent.get() == message.count else { throw SystemError("sendto", errno: .messageTooLong) }
    }
}
