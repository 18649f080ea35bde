/// Tasks that run beside the server in a worker, for as long as it lives (the seed's
/// `asyncio.gather(server.serve_forever(), other_task())`): a cache refresher, a queue consumer,
/// a heartbeat. Started from an app's factory (in the worker, after fork), they run on the
/// worker's loop like its requests: no thread, no lock around what they share with handlers.
///
///     BackgroundTasks.start("refresh") {
///         while true {
///             try await Task.sleep(for: .seconds(30))
///             await cache.refresh()
///         }
///     }
///
/// On a drain (reload, stop, recycle) each one is cancelled (`Task.isCancelled`, and a
/// `Task.sleep` throws `CancellationError`), and the worker does not exit before the last one has
/// returned, or the drain deadline (`--graceful-timeout`) has passed: cleanup gets the same
/// deadline as the requests in flight. An error other than `CancellationError` is logged by the
/// worker (`msg="background task failed"`); the task is not restarted.
@LoopActor
public final class BackgroundTasks {
    /// The loop's tasks (one loop per process).
    public static let shared = BackgroundTasks()

    private var running: [Int: Task<Void, Never>] = [:]
    private var nextID = 0
    /// A drain cancelled them: tasks started from now on start cancelled.
    public private(set) var isCancelled = false
    /// Called when the last running task has returned (the worker: finish the drain).
    public var onEmpty: (@LoopActor () -> Void)?
    /// Called with a task's name and the error it threw (the worker: a log line).
    public var onFailure: (@LoopActor (String, any Error) -> Void)?

    /// A set of its own (tests); a worker's are `shared`.
    public init() {}

    /// How many are running.
    public var count: Int { running.count }

    /// Starts `body` on this process's loop as a task named `name` (for the log).
    public static func start(_ name: String, _ body: @escaping @Sendable @LoopActor () async throws -> Void) {
        shared.start(name, body)
    }

    public func start(_ name: String, _ body: @escaping @Sendable @LoopActor () async throws -> Void) {
        let id = nextID
        nextID += 1
        // Not run before this returns: it is enqueued on the loop, whose thread this is.
        let operation: @Sendable @LoopActor () async -> Void = { await self.run(name, id: id, body) }
        let task = Task(executorPreference: LoopTasks.preference, operation: operation)
        running[id] = task
        if isCancelled { task.cancel() }
    }

    /// Cancels every running task and any started later (the worker's drain).
    public func cancelAll() {
        isCancelled = true
        for task in running.values { task.cancel() }
    }

    private func run(_ name: String, id: Int, _ body: @Sendable @LoopActor () async throws -> Void) async {
        do {
            try await body()
        } catch {
            // A CancellationError: asked to stop, and did.
            if !(error is CancellationError) { onFailure?(name, error) }
        }
        ended(id)
    }

    private func ended(_ id: Int) {
        running[id] = nil
        if running.isEmpty { onEmpty?() }
    }
}
