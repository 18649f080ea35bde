// The `supervisor` executable. Synchronous on purpose: the master forks, so no thread (no async
// main, no Task, no Dispatch) may exist before it does.
import SupervisorKit

SupervisorMain.run(apps: [.http, .echo], defaultApp: "http")
