/// Set by a task on the loop, read by the test between the loop's turns (both on one thread).
final class Flag: @unchecked Sendable {
    var isSet = false
}
