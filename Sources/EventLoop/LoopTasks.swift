/// Starts the tasks that the loop's own code needs beyond the one per connection (the HTTP
/// server's request workers), so that they run where that connection's would.
public enum LoopTasks {
    /// The executor preference of every task started with `start`: none in a worker, whose loop
    /// is the global executor; the loop's task executor in tests, which do not install it
    /// (`Tests/LoopTests`), so that every resumed continuation stays on the loop's thread.
    nonisolated(unsafe) static var preference: (any TaskExecutor)?

    /// Starts `body` as a new task on the loop. Call on the loop's thread.
    public static func start(_ body: @escaping @Sendable @LoopActor () async -> Void) {
        Task(executorPreference: preference, operation: body)
    }
}
