import Glibc
import Posix
import XCTest

/// `Directory`: the names in a folder, read through a stream that is always closed.
final class DirectoryTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory("directory-test") }
    override func tearDown() { directory.remove() }

    /// The descriptors of this process open on `path` (`/proc/self/fd` links), so a leak is seen
    /// whatever other descriptors the test process holds.
    func descriptorsOpen(on path: String) -> Int {
        FileDescriptor.openDescriptors().filter { fd in
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink("/proc/self/fd/\(fd)", &target, target.count - 1)
            return count > 0 && String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) == path
        }.count
    }

    func testListsEveryNameButDotAndDotDot() throws {
        for name in ["a", "b", ".hidden", "with space"] { try directory.write(name, [0]) }
        XCTAssertEqual(mkdir("\(directory.path)/folder", 0o755), 0)
        let names = Array(try Directory.entries(atPath: directory.path))
        XCTAssertEqual(names.sorted(), [".hidden", "a", "b", "folder", "with space"])
    }

    func testTheStreamIsClosedWhenTheIterationEnds() throws {
        for index in 0..<10 { try directory.write("f\(index)", [0]) }
        let entries = try Directory.entries(atPath: directory.path)
        XCTAssertEqual(descriptorsOpen(on: directory.path), 1, "open while reading")
        XCTAssertEqual(Array(entries).count, 10)
        XCTAssertTrue(entries.isClosed)
        XCTAssertNil(entries.failure)
        XCTAssertEqual(descriptorsOpen(on: directory.path), 0, "closed at the end, before the sequence goes away")
        XCTAssertNil(entries.next(), "a finished sequence stays finished")
    }

    func testTheStreamIsClosedWhenALoopBreaksEarly() throws {
        for index in 0..<10 { try directory.write("f\(index)", [0]) }
        func firstName() throws -> String? {
            for name in try Directory.entries(atPath: directory.path) { return name }
            return nil
        }
        XCTAssertNotNil(try firstName())
        XCTAssertEqual(descriptorsOpen(on: directory.path), 0, "the abandoned stream was closed")
    }

    func testReadsThroughItsOwnOpenOfTheDirectory() throws {
        for index in 0..<50 { try directory.write("f\(index)", [0]) }
        let root = try FileSystem.open(directory.path, .directory)
        defer { root.close() }
        let first = try Directory.entries(of: root)
        _ = first.next()
        XCTAssertEqual(try Directory.names(of: root).count, 50, "a second reading at the same time sees every name")
        XCTAssertEqual(Array(first).count, 49, "and the first one goes on where it was")
        XCTAssertEqual(lseek(root.rawValue, 0, SEEK_CUR), 0, "the caller's descriptor never moved")
        XCTAssertEqual(descriptorsOpen(on: directory.path), 1, "only the caller's own descriptor is left")
    }

    func testAnUnreadableDirectoryIsAnErrorNamingThePath() throws {
        let missing = "\(directory.path)/missing"
        XCTAssertThrowsError(try Directory.entries(atPath: missing)) { error in
            XCTAssertEqual((error as? SystemError)?.description, "open(\(missing)) failed: ENOENT (No such file or directory)")
        }
        let file = try directory.write("file", [0])
        XCTAssertThrowsError(try Directory.entries(atPath: file)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .notDirectory)
        }
    }
}
