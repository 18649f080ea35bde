// `import SupervisorKit` is all an embedding program needs (README, "Embedding"): the modules its
// services are written against come with it.
//
// `@_exported` (underscored, but stable in practice and used by swift-nio, swift-log and others)
// rather than more library products: `App` already shows `Service`, `@LoopActor` and `BlockingPool`
// (EventLoop) and apps are built from `HTTPService` and `Router` (HTTPServer), so one product and
// one import keep the public API one unit, and a user's package lists one dependency. Settings is
// re-exported too: an app declares its options with `Setting`, `Option` and `Values`. Posix and
// Channel are not: their types (`SocketAddress`, `WorkerLaunch`) are usable through `App`'s
// signatures without importing them, and Posix's `Process` would clash with Foundation's in a
// program that imports both.
@_exported import EventLoop
@_exported import HTTPServer
@_exported import Settings
// HTTPClient: the async client (README, "HTTP client"); HTTP: the types its requests and
// responses are made of (`HTTPMethod`, `ResponseHead`, `HTTPHeaders`).
@_exported import HTTPClient
@_exported import HTTP
// WebSocket: a WebSocket route's handler sends and receives its `WebSocketMessage`s and `CloseCode`s.
@_exported import WebSocket
