import Posix

extension EventLoop {
    /// Runs `body` on this process's loop from a plain program (a script's `main.swift`, a
    /// command-line tool): no master, no worker. Boots the loop on the calling thread (once per
    /// process; a later call reuses it), makes it the global executor as a worker does, ignores
    /// SIGPIPE as a worker does (a write to a closed peer is then `EPIPE`, not death), and turns the
    /// loop until `body` returns. Everything `body` starts runs on this one thread.
    public static func runStandalone(_ body: @escaping @Sendable @LoopActor () async -> Void) throws(SystemError) {
        let loop: EventLoop
        if let installed {
            precondition(installed.executor.isLoopThread && !installed.running, "runStandalone: the loop is already running or on another thread")
            loop = installed
        } else {
            loop = try boot()
            loop.installAsGlobalExecutor()
            SignalDisposition.ignore([.pipe])
        }
        Task { @LoopActor in
            await body()
            loop.stop()
        }
        loop.run()
    }
}
