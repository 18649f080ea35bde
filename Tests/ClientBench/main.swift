// client-bench URL REQUESTS CONCURRENCY: GETs URL REQUESTS times over CONCURRENCY tasks sharing
// one HTTPClient (so at most CONCURRENCY pooled connections), reads every body, and prints
// `requests=N seconds=S connections=K bytes=B`. For scripts/bench-client and scripts/client-e2e
// (pooled reuse: K stays at CONCURRENCY however large N is); exits 1 on the first failure.
import Glibc
import SupervisorKit

let arguments = CommandLine.arguments
guard arguments.count == 4, let total = Int(arguments[2]), let concurrency = Int(arguments[3]), total > 0, concurrency > 0 else {
    print("usage: client-bench URL REQUESTS CONCURRENCY")
    exit(2)
}
let url = arguments[1]
var configuration = HTTPClient.Configuration()
configuration.maxConnectionsPerOrigin = concurrency
do {
    let started = ContinuousClock.now
    let (bytes, connections) = try HTTPClient.run(configuration: configuration) { [url, total, concurrency] client in
        let workers = (0..<concurrency).map { worker in
            Task { @LoopActor () throws -> Int in
                var bytes = 0
                for _ in stride(from: worker, to: total, by: concurrency) {
                    bytes += try await client.execute(HTTPClient.Request(.get, url)) { response in
                        guard response.status == 200 else { throw HTTPClientError.unexpected(status: response.status) }
                        var count = 0
                        try await response.forEachChunk { count += $0.count }
                        return count
                    }
                }
                return bytes
            }
        }
        var bytes = 0
        for worker in workers { bytes += try await worker.value }
        return (bytes, client.connectionsOpened)
    }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("requests=\(total) seconds=\(seconds) connections=\(connections) bytes=\(bytes)")
} catch {
    print("client-bench: \(error)")
    exit(1)
}

extension HTTPClientError {
    static func unexpected(status: Int) -> Error { Unexpected(status: status) }
    struct Unexpected: Error, CustomStringConvertible {
        let status: Int
        var description: String { "status \(status)" }
    }
}
