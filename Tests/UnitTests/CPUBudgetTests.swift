@testable import Posix
import XCTest

/// The default worker count: the affinity mask capped by cgroup CPU quotas (v1 and v2).
final class CPUBudgetTests: XCTestCase {
    func testWorkersAreTheAffinityCappedByTheQuotaRoundedUp() {
        XCTAssertEqual(CPUBudget(affinity: 64, quota: nil).workers, 64)
        XCTAssertEqual(CPUBudget(affinity: 64, quota: 2).workers, 2)
        XCTAssertEqual(CPUBudget(affinity: 64, quota: 1.5).workers, 2)
        XCTAssertEqual(CPUBudget(affinity: 64, quota: 0.1).workers, 1)
        XCTAssertEqual(CPUBudget(affinity: 2, quota: 8).workers, 2, "a quota above the mask does not add CPUs")
        XCTAssertEqual(CPUBudget(affinity: 0, quota: nil).workers, 1)
        XCTAssertEqual(CPUBudget(affinity: 64, quota: 2).description, "cgroup CPU quota 2 of 64 CPUs in the affinity mask")
        XCTAssertEqual(CPUBudget(affinity: 64, quota: 1.5).description, "cgroup CPU quota 1.50 of 64 CPUs in the affinity mask")
        XCTAssertEqual(CPUBudget(affinity: 4, quota: nil).description, "4 CPUs in the affinity mask")
    }

    func testQuotaFiles() {
        XCTAssertEqual(CPUBudget.parseCPUMax("200000 100000\n"), 2)
        XCTAssertEqual(CPUBudget.parseCPUMax("150000 100000"), 1.5)
        XCTAssertNil(CPUBudget.parseCPUMax("max 100000\n"))
        XCTAssertNil(CPUBudget.parseCPUMax("garbage"))
        XCTAssertNil(CPUBudget.parseCPUMax("0 100000"))
        XCTAssertEqual(CPUBudget.parseCFS(quota: "50000\n", period: "100000\n"), 0.5)
        XCTAssertNil(CPUBudget.parseCFS(quota: "-1\n", period: "100000\n"))
        XCTAssertNil(CPUBudget.parseCFS(quota: nil, period: "100000"))
    }

    static let hybridMounts = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """

    func testV1HierarchyTakesTheLowestQuotaOnThePathToTheRoot() {
        let cgroups = "4:memory:/a\n2:cpu,cpuacct:/app/web\n0::/\n"
        let files = [
            "/sys/fs/cgroup/cpu,cpuacct/app/web/cpu.cfs_quota_us": "-1", "/sys/fs/cgroup/cpu,cpuacct/app/web/cpu.cfs_period_us": "100000",
            "/sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_quota_us": "300000", "/sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_period_us": "100000",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000",
        ]
        XCTAssertEqual(CPUBudget.lowestQuota(cgroups: cgroups, mounts: Self.hybridMounts, read: { files[$0] }), 3)
        XCTAssertNil(CPUBudget.lowestQuota(cgroups: cgroups, mounts: Self.hybridMounts, read: { _ in nil }), "unreadable files: no limit")
    }

    func testV2InAContainerReadsItsOwnRoot() {
        // A container's cgroup namespace: the process is at "/" of a mount that shows only its part.
        let mounts = "29 23 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        let files = ["/sys/fs/cgroup/cpu.max": "200000 100000\n"]
        XCTAssertEqual(CPUBudget.lowestQuota(cgroups: "0::/\n", mounts: mounts, read: { files[$0] }), 2)
        // A mount whose root is a sub-tree: paths below it are taken relative to it.
        let bind = "29 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        let nested = ["/sys/fs/cgroup/web/cpu.max": "max 100000", "/sys/fs/cgroup/cpu.max": "50000 100000"]
        XCTAssertEqual(CPUBudget.lowestQuota(cgroups: "0::/kubepods/pod1/web\n", mounts: bind, read: { nested[$0] }), 0.5)
        XCTAssertNil(CPUBudget.lowestQuota(cgroups: "0::/elsewhere\n", mounts: bind, read: { nested[$0] }), "a path outside the mount is not read")
    }

    func testThisProcessHasABudget() {
        let budget = CPUBudget.current
        XCTAssertEqual(budget.affinity, Process.availableCPUs)
        XCTAssertGreaterThanOrEqual(budget.workers, 1)
        XCTAssertLessThanOrEqual(budget.workers, budget.affinity)
    }
}
