import Foundation
import XCTest

/// `supervisor status --json` (Sources/Supervisor/StatusReport.swift), decoded: the master's own
/// account of its state, read instead of its log wherever a test waits for a state.
struct SupervisorStatus: Decodable {
    struct Master: Decodable {
        let pid: Int
        let uptimeMs: Int
        let generation: Int
        let workers: Int
        let phase: String
        let inRotation: Bool
        let app: String
        let binds: [String]
        let restarts: Int
        let connectionLimit: Int
        let requestsPerS: Double
        let restartReasons: [String: Int]
        let listenQueues: [ListenQueue]
    }

    struct ListenQueue: Decodable {
        let addr: String
        let length: Int?
    }

    struct Worker: Decodable {
        let pid: Int
        let slot: Int
        let generation: Int
        let state: String
        let ageMs: Int
        let requests: Int
        let connections: Int
        let rssBytes: Int
        let lastHeartbeatMs: Int
    }

    let master: Master
    let workers: [Worker]

    var ready: [Worker] { workers.filter { $0.state == "ready" } }

    /// The master's generation once every one of its desired workers of it is ready, else nil.
    var generationReady: Int? {
        guard master.phase == "serving" else { return nil }
        return ready.filter { $0.generation == master.generation }.count >= master.workers ? master.generation : nil
    }

    init(json: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(Self.self, from: Data(json.utf8))
    }

    /// The status of the master `pidfile` names (`arguments` instead: `--config FILE`, ...).
    static func read(pidfile: String) throws -> SupervisorStatus {
        try read(["--pidfile", pidfile])
    }

    static func read(_ arguments: [String]) throws -> SupervisorStatus {
        let result = try runCommand(["status", "--json"] + arguments)
        guard result.code == 0 else { throw EchoClient.Failure(description: "status exited \(result.code): \(result.error)") }
        return try SupervisorStatus(json: result.output)
    }

    /// Polls until `condition` holds (within the deadline); the status that met it, or nil after
    /// failing the test with the last one seen.
    @discardableResult
    static func wait(pidfile: String, timeout: TimeInterval = ServerProcess.deadline, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line,
                     until condition: (SupervisorStatus) -> Bool) -> SupervisorStatus? {
        var last: SupervisorStatus?
        var met: SupervisorStatus?
        _ = waitUntil(timeout: timeout) {
            guard let status = try? read(pidfile: pidfile) else { return false }
            last = status
            if condition(status) { met = status }
            return met != nil
        }
        if met == nil { XCTFail("status never showed \(what); last: \(String(describing: last))", file: file, line: line) }
        return met
    }
}
