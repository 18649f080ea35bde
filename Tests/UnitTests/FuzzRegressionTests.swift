import Posix
import Settings
import SupervisorKit
import XCTest

/// Inputs that scripts/fuzz found; each test names the target and what the input broke.
final class FuzzRegressionTests: XCTestCase {
    /// config-file: a NUL in an address ended the C string inet_pton read, so `127.0.0.1<NUL>junk:80`
    /// was a valid bind (host "127.0.0.1\0junk", which no address the kernel reports equals, and
    /// which the duplicate check took for another address than 127.0.0.1:80); `[::1<NUL>junk]:80`
    /// silently became [::1]:80; `10.0.0.0<NUL>x/8` a valid allow-list entry.
    func testAddressesWithNUL() {
        for text in ["127.0.0.1\0junk:80", "127.0.0.1\0:80", "[::1\0junk]:80", "localhost\0:80"] {
            XCTAssertThrowsError(try SocketAddress(parsing: text), text.debugDescription)
        }
        for text in ["10.0.0.0\0x/8", "127.0.0.1\0", "::1\0x"] {
            XCTAssertThrowsError(try AddressRange(parsing: text), text.debugDescription)
        }
        XCTAssertNil(AddressRange.bytes(of: "127.0.0.1\0x"))
        XCTAssertFalse(AddressRange.loopbackV4.contains("127.0.0.1\0x"))
        XCTAssertEqual(try SocketAddress(parsing: "127.0.0.1:80"), .ipv4(host: "127.0.0.1", port: 80))

        var config = Configuration(app: "http")
        let options = CommandLineParser(apps: [App.http.commandLine], defaultApp: "http").options
        for text in ["workers = 1\nbind = 127.0.0.1\0junk:80\n", "workers = 1\nforwarded-allow-ips = 10.0.0.0\0x/8\n"] {
            XCTAssertThrowsError(try ConfigFile.apply(text, path: "t.conf", options: options, to: &config)) { error in
                XCTAssertTrue((error as? UsageError)?.message.hasPrefix("t.conf:2: ") ?? false, "\(error)")
            }
        }
    }

    /// control-command: `supervisor reload --pidfile ""` was accepted (an empty pidfile, whose
    /// control socket would be `.sock` in the current directory), unlike `start --pidfile ""`.
    func testControlCommandWithAnEmptyPidfile() {
        let parser = CommandLineParser(apps: [App.http.commandLine], defaultApp: "http")
        for arguments in [["reload", "--pidfile", ""], ["status", "--pidfile="], ["stop", "--pidfile", "/a.pid", "--pidfile", ""]] {
            XCTAssertThrowsError(try parser.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue((error as? UsageError)?.message.contains("--pidfile") ?? false, "\(error)")
            }
        }
        XCTAssertEqual(try parser.parse(["reload", "--pidfile", "/run/s.pid"]), .control(ControlRequest(command: .reload, pidfile: "/run/s.pid")))
    }
}
