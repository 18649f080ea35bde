import Posix

/// The config file (`--config FILE`): one `key = value` a line, keys are the long flag names,
/// `#` starts a comment (at the start of a line, or after a blank), blank lines are ignored.
/// Switches take `true` or `false`; repeatable keys (`bind`) may appear on several lines.
///
/// Strict, like the flags: an unknown key, a bad value, a line that is not `key = value`, or a key
/// given twice is an error naming `file:line`. The same `Option` table applies both, so a name or a
/// value rule can never differ between the file and the command line.
public enum ConfigFile {
    /// The most a config file may hold: a larger one is a mistake (the wrong file).
    static let maximumSize = 1 << 20

    public static func read(_ path: String) throws(UsageError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: maximumSize + 1)
        } catch {
            throw UsageError("cannot read config file \(path): \(error)")
        }
        guard bytes.count <= maximumSize else { throw UsageError("config file \(path) is larger than 1 MiB") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw UsageError("config file \(path) is not UTF-8") }
        return text
    }

    /// Applies the file's settings to `config`.
    public static func apply(_ text: String, path: String, options: [Option], to config: inout Configuration) throws(UsageError) {
        var seen: [String: Int] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func fail(_ message: String) -> UsageError { UsageError("\(path):\(number): \(message)") }
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if let hash = commentStart(line) { line = line[..<hash] }
            let content = line.trimmingBlanks
            if content.isEmpty { continue }
            guard let split = content.splitAtFirstEquals() else { throw fail("expected 'key = value', got '\(content)'") }
            let key = split.name.trimmingBlanks
            let value = split.value.trimmingBlanks
            guard let option = options.first(where: { $0.name == key }), key != "config" else {
                throw fail(key == "config" ? "'config' cannot be set in a config file" : "unknown key '\(key)'")
            }
            guard !value.isEmpty else { throw fail("'\(key)' needs a value") }
            if !option.repeatable, let first = seen[key] { throw fail("'\(key)' is already set on line \(first)") }
            seen[key] = seen[key] ?? number
            if option.valueName == nil {
                guard value == "true" || value == "false" else { throw fail("invalid value for \(key): expected true or false, got '\(value)'") }
                if value == "false" { continue }
            }
            do {
                try option.apply(&config, value)
            } catch {
                throw fail("invalid value for \(key): \(error.message)")
            }
        }
    }

    /// Where a comment starts: a `#` first on the line or after a blank (so `a#b` stays a value).
    static func commentStart(_ line: Substring) -> Substring.Index? {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#" && (previous == " " || previous == "\t") { return index }
            previous = line[index]
        }
        return nil
    }
}
