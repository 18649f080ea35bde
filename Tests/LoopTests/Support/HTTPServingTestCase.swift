import EventLoop
import HTTPServer
import XCTest

/// What every in-process HTTP test needs: the process's test loop, a gate that held-back handlers
/// (`/later`) wait on, and a harness serving the test routes with the settings a test chooses.
class HTTPServingTestCase: XCTestCase {
    var testLoop: TestLoop!
    var gate: Gate!

    override func setUpWithError() throws {
        testLoop = try TestLoop.shared()
        gate = LoopActor.assumeIsolated { Gate() }
    }

    func harness(_ configure: (inout HTTPSettings) -> Void = { _ in }) -> HTTPHarness {
        var settings = HTTPSettings()
        configure(&settings)
        return HTTPHarness(testLoop, routes: TestRoutes.make(gate: gate), settings: settings)
    }

    /// Lets every handler waiting on the gate go on.
    func openGate() {
        let gate: Gate = gate
        LoopActor.assumeIsolated { gate.open() }
    }
}
