import EventLoop

/// The test process's one event loop: `EventLoop.boot()` may run once per process, so every test
/// that needs a loop shares this one. Created on the test thread (XCTest's main thread), which is
/// then the loop's thread: a test that runs it runs it there.
enum TestLoop {
    static let shared: EventLoop? = try? EventLoop.boot()
}
