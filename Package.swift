// swift-tools-version:6.0
import PackageDescription

// Module dependencies run one way: Posix ← EventLoop ← WorkerRuntime/Echo, and Posix ← Supervisor.
// Supervisor (the master) must never depend on EventLoop: the compiler then keeps the async runtime,
// and any thread it might start, out of the process that forks.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"], .when(configuration: .debug))]

let package = Package(
    name: "supervisor",
    products: [
        .executable(name: "supervisor", targets: ["supervisor-cli"]),
        .library(name: "SupervisorKit", targets: ["SupervisorKit"]),
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "Posix", dependencies: ["CLinux"], swiftSettings: strict),
        .target(name: "Channel", dependencies: ["Posix"], swiftSettings: strict),
        .target(name: "Settings", dependencies: ["Posix"], swiftSettings: strict),
        .target(name: "Logging", dependencies: ["Posix"], swiftSettings: strict),
        .target(name: "Supervisor", dependencies: ["Posix", "Channel", "Settings", "Logging"], swiftSettings: strict),
        .target(name: "EventLoop", dependencies: ["Posix", "CLinux"], swiftSettings: strict),
        .target(name: "Echo", dependencies: ["EventLoop", "Posix"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: [], swiftSettings: strict),
        .target(name: "HTTPServer", dependencies: ["HTTP", "EventLoop", "Posix"], swiftSettings: strict),
        .target(name: "WebApp", dependencies: ["HTTPServer", "HTTP", "EventLoop", "CLinux", "Channel", "Posix"], swiftSettings: strict),
        .target(name: "WorkerRuntime", dependencies: ["CLinux", "EventLoop", "Posix", "Channel", "Settings", "Logging"], swiftSettings: strict),
        .target(
            name: "SupervisorKit",
            dependencies: ["Supervisor", "WorkerRuntime", "Echo", "HTTPServer", "WebApp", "Settings", "Posix", "EventLoop", "Logging", "Channel"],
            swiftSettings: strict),
        .executableTarget(name: "supervisor-cli", dependencies: ["SupervisorKit"], swiftSettings: strict),
        .executableTarget(
            name: "supervisor-fixture", dependencies: ["SupervisorKit", "EventLoop", "Echo", "Posix", "HTTPServer"], path: "Tests/Fixture",
            swiftSettings: strict),
        .testTarget(
            name: "UnitTests",
            dependencies: ["Posix", "Channel", "Settings", "Supervisor", "EventLoop", "Echo", "Logging"],
            swiftSettings: strict),
        .testTarget(name: "WebAppTests", dependencies: ["WebApp", "HTTPServer"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "EventLoop"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Posix", "supervisor-cli", "supervisor-fixture"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
