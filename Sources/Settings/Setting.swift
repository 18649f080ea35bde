/// A typed value an app reads from the configuration (`config[App.echoIdleTimeout]`), written by
/// the app's options: flags and config-file keys declared next to the app, not in the master's table.
///
/// The value is stored under `name`; an app's setting that several options fill in (a struct, each
/// option one field) has one name for all of them. Two settings of one program must not share a
/// name with different types (`CommandLineParser.validateOptions()` refuses that at startup).
public struct Setting<Value: Sendable & Equatable>: Sendable {
    public let name: String
    /// What the app gets when no flag or config line set it.
    public let defaultValue: Value

    public init(_ name: String, default defaultValue: Value) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

/// The values of the apps' settings in a configuration, keyed by setting name: only those an
/// option set are stored, every other reads as its default.
public struct SettingValues: Sendable, Equatable {
    private var values: [String: Stored] = [:]

    public init() {}

    public subscript<Value>(setting: Setting<Value>) -> Value {
        get { values[setting.name]?.value as? Value ?? setting.defaultValue }
        set { values[setting.name] = Stored(value: newValue) }
    }

    /// A value of any setting's type, compared by opening it to its own `Equatable` type.
    private struct Stored: Sendable, Equatable {
        let value: any Sendable & Equatable

        static func == (lhs: Stored, rhs: Stored) -> Bool { lhs.value.isEqual(to: rhs.value) }
    }
}

private extension Equatable {
    func isEqual(to other: any Equatable) -> Bool { (other as? Self) == self }
}
