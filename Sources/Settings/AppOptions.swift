/// An app as the command line sees it: its name (a value of `--app`) and the options it adds to
/// `supervisor start` and the config file, beside the master's own.
public struct AppOptions: Sendable {
    public let name: String
    public let options: [Option]

    public init(name: String, options: [Option] = []) {
        self.name = name
        self.options = options
    }
}

/// A program declares options that cannot live together: an app's option named like the master's,
/// two apps declaring one name differently, or one setting name used with two types. A programmer
/// error, reported at startup before anything is parsed.
public struct OptionClash: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension AppOptions {
    /// The options `start` accepts: the master's, then every app's (whichever app is chosen: a
    /// config file stays valid across `--app`), an option two apps share listed once.
    static func merged(master: [Option], apps: [AppOptions]) -> (options: [Option], clashes: [OptionClash]) {
        var options = master
        var clashes: [OptionClash] = []
        var owner: [String: String] = [:]
        var settingTypes: [String: (type: ObjectIdentifier, app: String)] = [:]
        for app in apps {
            for option in app.options {
                guard let declared = option.declaration else { continue }
                if let (type, first) = settingTypes[declared.setting], type != declared.settingType {
                    clashes.append(OptionClash("apps '\(first)' and '\(app.name)' both use the setting name '\(declared.setting)' for values of different types"))
                }
                settingTypes[declared.setting] = settingTypes[declared.setting] ?? (declared.settingType, app.name)
                guard let existing = options.first(where: { $0.name == option.name }) else {
                    options.append(option)
                    owner[option.name] = app.name
                    continue
                }
                guard let first = owner[option.name] else {
                    clashes.append(OptionClash("app '\(app.name)' declares the option '--\(option.name)', which is the master's: give it another name"))
                    continue
                }
                if existing.declaration != declared || existing.valueName != option.valueName || existing.help != option.help {
                    clashes.append(OptionClash("apps '\(first)' and '\(app.name)' both declare the option '--\(option.name)', differently: share one declaration or rename one"))
                }
            }
        }
        return (options, clashes)
    }
}
