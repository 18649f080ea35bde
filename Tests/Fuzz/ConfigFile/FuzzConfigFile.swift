// libFuzzer target: ConfigFile.apply (compiled into module Settings with its sources by
// scripts/fuzz, linked with Posix and the CLinux shim).
//
// The input is a config file (skipped unless UTF-8, as `ConfigFile.read` refuses anything else).
// Checked: an error names `fuzz.conf:LINE:` with a line of the file; applying is deterministic;
// an accepted file gives the same configuration as the same settings given as flags; and what
// was accepted is what the documentation promises: addresses in the spelling the kernel reports
// (so socket activation and duplicate checks compare them correctly), IP addresses printable,
// round-tripping through their description; allow-list entries printable.
import Glibc
import Posix

/// An app's options as the built-in http app declares them (its module is not compiled in here):
/// a value, a switch and the allow-list, each into a field of one setting.
private struct FuzzAppSettings: Sendable, Equatable {
    var allowed: [AddressRange] = [.loopbackV4, .loopbackV6]
    var proxyProtocol = false
    var root: String?
}
private let fuzzSettings = Setting("http", default: FuzzAppSettings())
private let apps = [
    AppOptions(name: "http", options: [
        .value("forwarded-allow-ips", "LIST", "allow-list", setting: fuzzSettings, field: \.allowed) { try Values.addressRanges($0) },
        .flag("proxy-protocol", "PROXY header", setting: fuzzSettings, field: \.proxyProtocol),
        .value("root", "DIR", "folder", setting: fuzzSettings, field: \.root) { try Values.path($0) },
    ]),
    AppOptions(name: "echo", options: [.value(Setting<Duration>("idle-timeout", default: .seconds(10)), "DURATION", "idle") { try Values.duration($0) }]),
]
private let parser = CommandLineParser(apps: apps, defaultApp: "http")
private let options = parser.options

private func canonicalIPv4(_ host: String) -> String? {
    var address = in_addr()
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    guard inet_pton(AF_INET, host, &address) == 1, inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return nil }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func isPrintable(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } }

/// The file's settings as `start` flags (`--key=value`, a `true` switch as `--key`), the way the
/// file reads them: a line split at the first `=`, comments and blanks removed.
private func flags(of text: String) -> [String] {
    var arguments: [String] = []
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = Substring(rawLine)
        if line.hasSuffix("\r") { line = line.dropLast() }
        if let hash = ConfigFile.commentStart(line) { line = line[..<hash] }
        let content = line.trimmingBlanks
        // Split as the file's parser does, by Unicode scalar: by `Character`, a `=` followed by a
        // combining mark (`pidfile =\u{30D}x`) is no `=`, and the line was left out of the flags.
        guard !content.isEmpty, let split = content.splitAtFirstEquals() else { continue }
        let key = split.name.trimmingBlanks
        let value = split.value.trimmingBlanks
        if let option = options.first(where: { $0.name == key }), option.valueName == nil {
            if value == "true" { arguments.append("--\(key)") }
        } else {
            arguments.append("--\(key)=\(value)")
        }
    }
    return arguments
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    guard let text = String(validating: input, as: UTF8.self) else { return 0 }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
    var config = Configuration(app: "http")
    do {
        try ConfigFile.apply(text, path: "fuzz.conf", options: options, to: &config)
    } catch {
        let message = error.message
        fuzzCheck(message.hasPrefix("fuzz.conf:"), "error without file:line: \(message.debugDescription)")
        let number = message.dropFirst("fuzz.conf:".count).prefix { $0.isNumber }
        fuzzCheck(Int(number).map { (1...lines).contains($0) } ?? false, "error names line \(number) of \(lines): \(message.debugDescription)")
        var again = Configuration(app: "http")
        do {
            try ConfigFile.apply(text, path: "fuzz.conf", options: options, to: &again)
            fuzzCheck(false, "second apply accepted what the first refused: \(message.debugDescription)")
        } catch {
            fuzzCheck(error.message == message, "second apply: \(error.message.debugDescription), first: \(message.debugDescription)")
        }
        return 0
    }
    var again = Configuration(app: "http")
    do {
        try ConfigFile.apply(text, path: "fuzz.conf", options: options, to: &again)
    } catch {
        fuzzCheck(false, "second apply refused what the first accepted: \(error.message.debugDescription)")
    }
    fuzzCheck(again == config, "two applies of the same file differ")

    for bind in config.binds {
        // A unix path may hold any byte but NUL (it is a file name); an IP address is ASCII.
        if !bind.isUnix { fuzzCheck(isPrintable(bind.description), "bind \(bind.description.debugDescription) is not printable") }
        if case let .ipv4(host, _) = bind {
            fuzzCheck(canonicalIPv4(host) == host, "bind host \(host.debugDescription) is not the address's spelling \(canonicalIPv4(host)?.debugDescription ?? "nil")")
        }
        let reparsed = try? SocketAddress(parsing: bind.description)
        fuzzCheck(reparsed == bind, "bind \(bind.description.debugDescription) reparses as \(reparsed?.description.debugDescription ?? "an error")")
    }
    for range in config[fuzzSettings].allowed {
        fuzzCheck(isPrintable(range.description), "forwarded-allow-ips entry \(range.description.debugDescription) is not printable")
    }

    let arguments = flags(of: text)
    do {
        let fromFlags = try parser.parseStart(arguments)
        fuzzCheck(fromFlags == config, "flags \(arguments) give another configuration than the file")
    } catch {
        fuzzCheck(false, "flags \(arguments) refused (\(error.message)) though the file was accepted")
    }
    return 0
}
