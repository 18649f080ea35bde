// `import SupervisorKit` is all an embedding program needs (README, "Embedding"): the modules its
// services are written against come with it.
//
// `@_exported` (underscored, but stable in practice and used by swift-nio, swift-log and others)
// rather than more library products: `App` already shows `Service`, `@LoopActor` and `BlockingPool`
// (EventLoop) and apps are built from `HTTPService` and `Router` (HTTPServer), so one product and
// one import keep the public API one unit, and a user's package lists one dependency. Posix, Settings
// and Channel are not re-exported: their types (`SocketAddress`, `Configuration`, `WorkerLaunch`)
// are usable through `App`'s signatures without importing them, and Posix's `Process` would clash
// with Foundation's in a program that imports both.
@_exported import EventLoop
@_exported import HTTPServer
