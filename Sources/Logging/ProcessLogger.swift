extension Logger {
    /// The process's logger, for code that has none handed to it (the HTTP server logs a handler's
    /// error with it). A worker sets it to its own once forked, with its format and its
    /// `worker=`/`slot=` fields; until then, logfmt to standard error.
    ///
    /// Unsynchronized on purpose: set once at a worker's boot, before it serves, and read on the
    /// loop's thread only (tests set it on theirs).
    public nonisolated(unsafe) static var process = Logger()
}
