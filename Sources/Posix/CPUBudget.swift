/// How many CPUs this process can really use: the default worker count.
///
/// The CPUs it may run on (`sched_getaffinity`, so `taskset` and cpusets count), capped by the CPU
/// bandwidth of its cgroup when that is lower (a container limited to 2 CPUs on a 64-core host
/// gets 2, not 64): cgroup v2's `cpu.max`, or v1's `cpu.cfs_quota_us` / `cpu.cfs_period_us`, the
/// lowest along the path to the root, since each level caps everything below it. A fractional
/// quota is rounded up (1.5 CPUs → 2 workers), and there is always at least one.
public struct CPUBudget: Equatable, Sendable, CustomStringConvertible {
    /// CPUs in the affinity mask.
    public let affinity: Int
    /// The cgroup's CPU bandwidth in CPUs (`quota / period`), when one is set.
    public let quota: Double?

    public init(affinity: Int, quota: Double?) {
        self.affinity = max(1, affinity)
        self.quota = quota
    }

    /// The default worker count.
    public var workers: Int {
        guard let quota, quota > 0 else { return affinity }
        return max(1, min(affinity, Int((quota - 1e-9).rounded(.up))))
    }

    /// Where `workers` came from, for the log.
    public var description: String {
        if let quota, workers < affinity {
            return "cgroup CPU quota \(Self.format(quota)) of \(affinity) CPUs in the affinity mask"
        }
        return "\(affinity) CPUs in the affinity mask" + (quota.map { " (cgroup quota \(Self.format($0)))" } ?? "")
    }

    private static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return fraction == 0 ? "\(hundredths / 100)" : "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// This process's budget, read from the kernel; a `/proc` or `/sys` entry that cannot be read
    /// or parsed means no limit from it.
    public static var current: CPUBudget {
        let quota = TextFile.contents("/proc/self/cgroup").flatMap { cgroups in
            TextFile.contents("/proc/self/mountinfo").flatMap { mounts in
                lowestQuota(cgroups: cgroups, mounts: mounts, read: TextFile.contents)
            }
        }
        return CPUBudget(affinity: Process.availableCPUs, quota: quota)
    }

    // MARK: Parsing (pure, for the tests)

    /// The lowest CPU quota on the path from this process's cgroups to their roots. `cgroups` is
    /// `/proc/self/cgroup`, `mounts` is `/proc/self/mountinfo`, `read` reads a file (nil: missing).
    static func lowestQuota(cgroups: String, mounts: String, read: (String) -> String?) -> Double? {
        var lowest: Double?
        func consider(_ value: Double?) {
            if let value, value > 0 { lowest = min(lowest ?? value, value) }
        }
        for mount in cgroupMounts(mounts) {
            guard let path = cgroupPath(cgroups, version2: mount.version2) else { continue }
            // The mount shows the hierarchy from `mount.root` down (a container sees its own part).
            guard path == mount.root || path.hasPrefix(mount.root == "/" ? "/" : mount.root + "/") else { continue }
            var relative = String(path.dropFirst(mount.root == "/" ? 0 : mount.root.count))
            while true {
                let directory = mount.point + (relative == "/" ? "" : relative)
                if mount.version2 {
                    consider(read(directory + "/cpu.max").flatMap(parseCPUMax))
                } else {
                    consider(parseCFS(quota: read(directory + "/cpu.cfs_quota_us"), period: read(directory + "/cpu.cfs_period_us")))
                }
                guard relative != "/", !relative.isEmpty else { break }
                relative = parent(of: relative)
            }
        }
        return lowest
    }

    /// cgroup v2 `cpu.max`: `$MAX $PERIOD`, `max` meaning no limit.
    static func parseCPUMax(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, fields[0] != "max", let quota = Double(fields[0]), let period = Double(fields[1]),
              quota > 0, period > 0 else { return nil }
        return quota / period
    }

    /// cgroup v1: `cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`.
    static func parseCFS(quota: String?, period: String?) -> Double? {
        guard let quota = quota.flatMap({ Double($0.trimmingBlanks) }), let period = period.flatMap({ Double($0.trimmingBlanks) }),
              quota > 0, period > 0 else { return nil }
        return quota / period
    }

    struct Mount: Equatable {
        let point: String
        /// The part of the hierarchy this mount shows (`/` unless in a container or bind mount).
        let root: String
        let version2: Bool
    }

    /// The cgroup mounts that can limit CPU: every cgroup2 mount, and v1 mounts of the `cpu` controller.
    static func cgroupMounts(_ mountinfo: String) -> [Mount] {
        mountinfo.split(separator: "\n").compactMap { line in
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            let fields = line.split(separator: " ")
            guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count else { return nil }
            let type = fields[dash + 1]
            let root = String(fields[3]), point = String(fields[4])
            if type == "cgroup2" { return Mount(point: point, root: root, version2: true) }
            guard type == "cgroup", fields[dash + 3].split(separator: ",").contains("cpu") else { return nil }
            return Mount(point: point, root: root, version2: false)
        }
    }

    /// This process's cgroup path in one hierarchy, from `/proc/self/cgroup`
    /// (`0::/path` for v2, `N:cpu,cpuacct:/path` for v1).
    static func cgroupPath(_ cgroups: String, version2: Bool) -> String? {
        for line in cgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if version2 {
                if fields[0] == "0" && fields[1].isEmpty { return String(fields[2]) }
            } else if fields[1].split(separator: ",").contains("cpu") {
                return String(fields[2])
            }
        }
        return nil
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
