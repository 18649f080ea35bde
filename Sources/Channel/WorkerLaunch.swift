import Posix

/// What a freshly forked worker is handed by its master: who it is, what to serve, and its end of
/// the channel. Built in the master, read in the child after `fork`.
public struct WorkerLaunch: Sendable {
    public let slot: Int
    public let generation: Int
    public let masterPID: ProcessID
    /// The worker's end of its socketpair with the master.
    public let channel: FileDescriptor
    /// The listening sockets, shared with the master (which keeps them open across worker deaths).
    public let listeners: [FileDescriptor]
    /// Server-wide counters shared by the master and every worker (uploads in progress), and this
    /// worker's own seat in them (nil when none was free: the worker then refuses what needs one).
    public let shared: SharedCounters
    public let seat: Int?
    /// The server is out of its load balancer's rotation when this worker starts (see
    /// `ChannelMessage.rotation`): its health checks fail from the first one.
    public let outOfRotation: Bool

    public init(slot: Int, generation: Int, masterPID: ProcessID, channel: FileDescriptor, listeners: [FileDescriptor],
                shared: SharedCounters, seat: Int?, outOfRotation: Bool = false) {
        self.slot = slot
        self.generation = generation
        self.masterPID = masterPID
        self.channel = channel
        self.listeners = listeners
        self.shared = shared
        self.seat = seat
        self.outOfRotation = outOfRotation
    }
}

/// Exit codes are a protocol between worker and master.
public enum WorkerExitCode {
    /// The worker could not boot (its service failed to start). A master that has never had a
    /// worker ready stops instead of forking the same failure forever.
    public static let bootFailure: CInt = 3
}
