// libFuzzer target: control commands (compiled into module Settings with its sources by
// scripts/fuzz, linked with Posix and the CLinux shim).
//
// The input is what a client sends on the control socket; the master decodes the bytes up to the
// first newline (lossily, as UTF-8) and parses them, as ControlServer does. Checked: a parsed
// command's `line` is one line that parses back to the same command; scale targets are within
// what the parser promises. The input's lines are also given to the `supervisor` command line
// (one argument each): whatever control request it accepts, the line the client then sends parses
// back, on the master's side, to the same command.
import Posix

private let parser = CommandLineParser(apps: [AppOptions(name: "http"), AppOptions(name: "echo")], defaultApp: "http")

private func checkCommand(_ command: ControlCommand, _ context: @autoclosure () -> String) {
    let line = command.line
    fuzzCheck(!line.contains("\n") && !line.contains("\r"), "\(context()): line \(line.debugDescription) is not one line")
    fuzzCheck(ControlCommand(line: line) == command, "\(context()): \(command) sends \(line.debugDescription), which parses as \(String(describing: ControlCommand(line: line)))")
    if case let .scale(target) = command {
        switch target {
        case let .by(delta): fuzzCheck((-1024...1024).contains(delta), "\(context()): scale by \(delta)")
        case let .to(count): fuzzCheck((0...1024).contains(count), "\(context()): scale to \(count)")
        }
        fuzzCheck(ControlCommand.ScaleTarget(parsing: target.text) == target, "\(context()): \(target) reads back from \(target.text.debugDescription) as something else")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlCommand(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    // The master's side.
    let end = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.count
    let line = String(decoding: UnsafeRawBufferPointer(rebasing: input[..<end]), as: UTF8.self)
    if let command = ControlCommand(line: line) { checkCommand(command, "line \(line.debugDescription)") }
    if let target = ControlCommand.ScaleTarget(parsing: line) { checkCommand(.scale(target), "scale target \(line.debugDescription)") }
    _ = ControlCommand.socketPath(forPidfile: line)

    // The client's side. `--config` would read a file: left out.
    let text = String(decoding: input, as: UTF8.self)
    let arguments = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard !arguments.contains(where: { $0.contains("config") }) else { return 0 }
    guard case let .control(request)? = try? parser.parse(arguments) else { return 0 }
    checkCommand(request.command, "arguments \(arguments)")
    fuzzCheck(!request.pidfile.isEmpty, "arguments \(arguments): empty pidfile accepted")
    return 0
}
