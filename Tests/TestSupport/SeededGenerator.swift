/// SplitMix64: random numbers from a fixed seed, so a failing test or fuzz input replays exactly.
///
/// The one copy for every place that needs it: the `TestSupport` target (HTTPTests, UnitTests)
/// and, compiled into each fuzz binary by scripts/fuzz, the libFuzzer entry points (they are
/// not SwiftPM targets and cannot depend on one).
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
