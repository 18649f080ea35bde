// swift-tools-version:6.0
import PackageDescription

// The modules, each depending only on modules above it (DESIGN.md, "Modules", says what each holds):
//
//   CLinux         the C shim: macros, GNU-only calls, the runtime's executor hooks, socket filters
//   Posix          the one syscall funnel and SystemError; no other module makes a system call
//   Logging        logfmt/JSON lines, the log file            (Posix)
//   Settings       options, config file, control commands    (Posix)
//   Channel        master↔worker messages, launch records    (Posix)
//   Supervisor     the master                                (Posix, Channel, Settings, Logging)
//   EventLoop      the worker's reactor and executor         (Posix, CLinux)
//   HTTP           the HTTP/1.1 parser                       (nothing)
//   Echo           the line-echo service                     (EventLoop)
//   WebSocket      RFC 6455 frames, SHA-1, base64            (nothing)
//   HTTPServer     HTTP connections, router, responses       (HTTP, EventLoop, Logging, WebSocket)
//   HTTPClient     the async HTTP/1.1 client and its pool     (HTTP, EventLoop, Posix)
//   WebApp         the built-in web app                      (HTTPServer)
//   WorkerRuntime  a worker from fork to exit                (EventLoop, Channel, Settings, Logging)
//   SupervisorKit  command line, built-in apps, embedding    (all of the above)
//   supervisor-cli the executable                            (SupervisorKit)
//
// Supervisor (the master) must never depend on EventLoop: the compiler then keeps the async runtime,
// and any thread it might start, out of the process that forks.
//
// No `unsafeFlags` anywhere: SwiftPM refuses a dependency that has them ("contains unsafe build
// flags"), so a package naming us by version could not resolve. Warnings are made fatal by CI
// instead (`swift test -Xswiftc -warnings-as-errors` in .ci/run), and scripts/check-dependent
// builds the README's embedding example as such a dependent package.

let package = Package(
    name: "supervisor",
    products: [
        .executable(name: "supervisor", targets: ["supervisor-cli"]),
        .library(name: "SupervisorKit", targets: ["SupervisorKit"]),
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "Posix", dependencies: ["CLinux"]),
        .target(name: "Channel", dependencies: ["Posix"]),
        .target(name: "Settings", dependencies: ["Posix"]),
        .target(name: "Logging", dependencies: ["Posix"]),
        .target(name: "Supervisor", dependencies: ["Posix", "Channel", "Settings", "Logging"]),
        .target(name: "EventLoop", dependencies: ["Posix", "CLinux"]),
        .target(name: "Echo", dependencies: ["EventLoop", "Posix"]),
        .target(name: "HTTP", dependencies: []),
        .target(name: "WebSocket", dependencies: []),
        .target(name: "HTTPServer", dependencies: ["HTTP", "EventLoop", "Posix", "Logging", "WebSocket"]),
        .target(name: "HTTPClient", dependencies: ["HTTP", "EventLoop", "Posix"]),
        .target(name: "WebApp", dependencies: ["HTTPServer", "HTTP", "EventLoop", "Posix"]),
        .target(name: "WorkerRuntime", dependencies: ["EventLoop", "Posix", "Channel", "Settings", "Logging"]),
        .target(
            name: "SupervisorKit",
            dependencies: ["Supervisor", "WorkerRuntime", "Echo", "HTTPServer", "HTTPClient", "WebApp", "Settings", "Posix", "EventLoop", "Logging", "Channel", "WebSocket"]),
        .executableTarget(name: "supervisor-cli", dependencies: ["SupervisorKit"]),
        .executableTarget(
            name: "supervisor-fixture", dependencies: ["SupervisorKit", "EventLoop", "Echo", "Posix", "HTTPServer"], path: "Tests/Fixture"),
        // The README's "HTTP client" example, word for word (ReadmeExampleTests checks it).
        .executableTarget(name: "client-example", dependencies: ["SupervisorKit"], path: "Tests/ClientExample"),
        // Many GETs over a few pooled connections: scripts/bench-client and scripts/client-e2e.
        .executableTarget(name: "client-bench", dependencies: ["SupervisorKit"], path: "Tests/ClientBench"),
        // What more than one test target needs (SeededGenerator); not a product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "UnitTests",
            dependencies: ["Posix", "Channel", "Settings", "Supervisor", "EventLoop", "Echo", "Logging", "WorkerRuntime", "SupervisorKit", "TestSupport"]),
        .testTarget(name: "WebAppTests", dependencies: ["WebApp", "HTTPServer"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "EventLoop", "Posix"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "TestSupport"]),
        .testTarget(name: "LoopTests", dependencies: ["EventLoop", "HTTPServer", "HTTP", "HTTPClient", "WebApp", "WebSocket", "Posix", "CLinux", "TestSupport", "Logging"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Posix", "supervisor-cli", "supervisor-fixture", "client-example", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
