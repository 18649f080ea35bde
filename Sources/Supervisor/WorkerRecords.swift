import Posix

/// What the master holds for each live worker process, one record per pid (nginx's
/// `ngx_process_t`): its end of the channel and its seat in the shared counters.
///
/// A worker's resources are taken together before its fork (`prepare`), given back together if
/// the fork fails (`abandon`), recorded together once it succeeded (`commit`) and released
/// together when the worker is reaped (`release`), so no path can keep one and drop the other.
/// The rules about workers are `WorkerTable`'s; this is only their belongings.
struct WorkerRecords {
    struct Record: Equatable {
        let pid: ProcessID
        /// The master's end of the worker's `SOCK_SEQPACKET` channel.
        let channel: FileDescriptor
        /// Its seat in the shared counters; nil when none was free (it then refuses what needs one).
        let seat: Int?
    }

    /// A worker's resources between their creation and its fork.
    struct Pending {
        let masterEnd: FileDescriptor
        /// Handed to the child; closed in the parent once the fork is done.
        let workerEnd: FileDescriptor
        let seat: Int?
        let shared: SharedCounters
    }

    enum PrepareFailure: Error {
        /// Mapped before the first fork; without them there is nothing a worker could count with.
        case noSharedCounters
        case channel(SystemError)
    }

    /// Counters shared with every worker, mapped before the first fork.
    let shared: SharedCounters?
    private(set) var byPID: [ProcessID: Record] = [:]
    /// Seats no live worker holds, the lowest last (it is taken first).
    private var freeSeats: [Int]

    init(shared: SharedCounters?) {
        self.shared = shared
        freeSeats = Array((0..<(shared?.seats ?? 0)).reversed())
    }

    var freeSeatCount: Int { freeSeats.count }

    /// The channels to watch, in pid order.
    var channels: [(pid: ProcessID, channel: FileDescriptor)] {
        byPID.values.sorted { $0.pid < $1.pid }.map { ($0.pid, $0.channel) }
    }

    func channel(of pid: ProcessID) -> FileDescriptor? { byPID[pid]?.channel }

    /// Everything a worker about to be forked needs. Nothing is left open when it fails.
    mutating func prepare() throws(PrepareFailure) -> Pending {
        guard let shared else { throw .noSharedCounters }
        let ends: (FileDescriptor, FileDescriptor)
        do {
            ends = try Socket.seqpacketPair()
        } catch {
            throw .channel(error)
        }
        return Pending(masterEnd: ends.0, workerEnd: ends.1, seat: freeSeats.popLast(), shared: shared)
    }

    /// The fork failed: both ends are closed and the seat is free again.
    mutating func abandon(_ pending: Pending) {
        pending.masterEnd.close()
        pending.workerEnd.close()
        if let seat = pending.seat { freeSeats.append(seat) }
    }

    /// In the parent, after a successful fork: the worker's end is the child's alone now.
    mutating func commit(_ pending: Pending, pid: ProcessID) {
        pending.workerEnd.close()
        // A pid is reused only once its process was reaped, and reaping releases the record.
        if let stale = byPID[pid] { release(stale) }
        byPID[pid] = Record(pid: pid, channel: pending.masterEnd, seat: pending.seat)
    }

    /// A worker was reaped: its channel is closed, and whatever it held in the shared counters
    /// (uploads in progress) is free again, with its seat. Nil for a pid with no record.
    @discardableResult
    mutating func release(_ pid: ProcessID) -> Record? {
        guard let record = byPID.removeValue(forKey: pid) else { return nil }
        release(record)
        return record
    }

    /// At exit: every channel closed.
    mutating func releaseAll() {
        for pid in byPID.keys.sorted() { release(pid) }
    }

    private mutating func release(_ record: Record) {
        record.channel.close()
        if let seat = record.seat {
            shared?.clear(seat: seat)
            freeSeats.append(seat)
        }
    }
}
