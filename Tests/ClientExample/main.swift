// fetch: writes the body of the URL in its first argument to standard output, byte for byte.
// Exits 1 on any failure (no connection, a status other than 200, a truncated body, a timeout).
import Glibc
import SupervisorKit

func fail(_ message: String) -> Never {
    var line = "fetch: \(message)\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

/// Writes all of `bytes` to standard output (a pipe may take them in parts).
func writeOut(_ bytes: UnsafeRawBufferPointer) throws(HTTPClientError) {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
        let written = write(STDOUT_FILENO, base + offset, bytes.count - offset)
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { fail("cannot write to standard output (errno \(errno))") }
        offset += written
    }
}

guard CommandLine.arguments.count == 2 else { fail("usage: fetch http://HOST[:PORT]/PATH") }
let url = CommandLine.arguments[1]
do {
    let status = try HTTPClient.run { [url] client in
        try await client.execute(HTTPClient.Request(.get, url)) { response in
            guard response.status == 200 else { return response.status }
            try await response.forEachChunk { bytes in try writeOut(bytes) }
            return 200
        }
    }
    guard status == 200 else { fail("\(url): status \(status)") }
} catch {
    fail("\(error)")
}
