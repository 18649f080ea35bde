import Foundation
import Glibc
import XCTest

/// The default worker count inside a real cgroup with a CPU quota (v2 `cpu.max` or v1 CFS quota).
final class CPUBudgetIntegrationTests: XCTestCase {
    /// A fresh cgroup under this process's own in the CPU hierarchy, or nil where none can be made.
    private func makeCgroup(quotaMicroseconds: Int) throws -> (directory: String, remove: () -> Void)? {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
              let cgroups = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count, fields[3] == "/" else { continue }
            let point = String(fields[4])
            let version2 = fields[dash + 1] == "cgroup2"
            let cpuV1 = fields[dash + 1] == "cgroup" && fields[dash + 3].split(separator: ",").contains("cpu")
            guard version2 || cpuV1 else { continue }
            let own = cgroups.split(separator: "\n").compactMap { entry -> String? in
                let parts = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { return nil }
                if version2 { return parts[0] == "0" && parts[1].isEmpty ? String(parts[2]) : nil }
                return parts[1].split(separator: ",").contains("cpu") ? String(parts[2]) : nil
            }.first
            guard let own else { continue }
            let directory = point + (own == "/" ? "" : own) + "/supervisor-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
            guard mkdir(directory, 0o755) == 0 else { continue }
            let remove = { _ = rmdir(directory) }
            let written = version2
                ? (try? "\(quotaMicroseconds) 100000".write(toFile: directory + "/cpu.max", atomically: false, encoding: .utf8)) != nil
                : (try? "100000".write(toFile: directory + "/cpu.cfs_period_us", atomically: false, encoding: .utf8)) != nil
                    && (try? "\(quotaMicroseconds)".write(toFile: directory + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)) != nil
            guard written else { remove(); continue }
            return (directory, remove)
        }
        return nil
    }

    func testTheDefaultWorkerCountFollowsTheCgroupQuota() throws {
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { throw XCTSkip("one CPU: a quota cannot lower the count") }
        guard let cgroup = try makeCgroup(quotaMicroseconds: 50_000) else {
            throw XCTSkip("no writable cgroup with a CPU controller here (not root, or no cgroup mount)")
        }
        defer { cgroup.remove() }
        // The shell moves itself into the cgroup, then becomes the master (same pid).
        let server = try ServerProcess(["start", "--app", "echo", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       launcher: ["/bin/sh", "-c", "echo $$ > \(cgroup.directory)/cgroup.procs && exec \"$0\" \"$@\""])
        let started = server.waitForLog("msg=\"master started\"")
        XCTAssertTrue(started.first?.contains("workers=1 ") == true, "\(started)")
        XCTAssertTrue(started.first?.contains("workers_from=\"cgroup CPU quota 0.50 of") == true, "\(started)")
        server.waitForReady(1)
        XCTAssertEqual(server.workerPIDs.count, 1)
        server.stop()
        // Outside the cgroup, the same start uses every CPU of the mask, and says so.
        let free = try ServerProcess(["start", "--app", "echo", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let line = free.waitForLog("msg=\"master started\"").first ?? ""
        XCTAssertFalse(line.contains("workers=1 "), line)
        XCTAssertTrue(line.contains("CPUs in the affinity mask"), line)
        // Given explicitly, the count is not explained.
        let given = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        XCTAssertFalse((given.waitForLog("msg=\"master started\"").first ?? "").contains("workers_from"))
    }
}
