import Glibc
import Posix
import XCTest

/// The file system calls of `Posix`: what they return, and that every failure names the call, the
/// path and the errno.
final class FileSystemTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory("filesystem-test") }
    override func tearDown() { directory.remove() }

    // MARK: Reading

    func testReadFileReadsAFileLargerThanOneReadWhole() throws {
        // 200 000 bytes: several of readToEnd's 64 KiB reads, the last one partial.
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = try directory.write("large", bytes)
        XCTAssertEqual(try FileSystem.readFile(path, limit: 1 << 20), bytes)
    }

    func testReadFileStopsAtTheLimit() throws {
        let path = try directory.write("large", [UInt8](repeating: 7, count: 100_000))
        XCTAssertEqual(try FileSystem.readFile(path, limit: 70_001).count, 70_001, "one byte more than a caller accepts tells it the file is too large")
        XCTAssertEqual(try FileSystem.readFile(path, limit: 0), [])
    }

    func testReadToEndCollectsEveryPieceOfAPipe() throws {
        let pipe = try FileDescriptor.pipe()
        defer { pipe.read.close() }
        for piece in ["one ", "two ", "three"] { try pipe.write.writeAll(piece) }
        pipe.write.close()
        XCTAssertEqual(String(decoding: try pipe.read.readToEnd(limit: 1000), as: UTF8.self), "one two three")
    }

    func testAPositionalReadLeavesTheOffsetAlone() throws {
        let path = try directory.write("text", Array("0123456789".utf8))
        let fd = try FileSystem.open(path)
        defer { fd.close() }
        XCTAssertEqual(String(decoding: try fd.read(count: 3, at: 4), as: UTF8.self), "456")
        XCTAssertEqual(String(decoding: try fd.read(count: 20, at: 8), as: UTF8.self), "89", "fewer bytes when the file ends first")
        XCTAssertEqual(String(decoding: try fd.readToEnd(limit: 100), as: UTF8.self), "0123456789", "a shared cached descriptor keeps offset 0")
    }

    // MARK: Errors name the path

    func testAFailedOpenNamesTheCallThePathAndTheErrno() throws {
        let missing = "\(directory.path)/missing"
        XCTAssertThrowsError(try FileSystem.readFile(missing, limit: 10)) { error in
            let error = error as? SystemError
            XCTAssertEqual(error?.syscall, "open")
            XCTAssertEqual(error?.errno, .noSuchFile)
            XCTAssertEqual(error?.description, "open(\(missing)) failed: ENOENT (No such file or directory)")
        }
    }

    func testAFileIsNoDirectory() throws {
        let file = try directory.write("file", [1])
        XCTAssertThrowsError(try FileSystem.open(file, .directory)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .notDirectory)
        }
        XCTAssertThrowsError(try FileSystem.checkAccess(file + "/", .write), "a trailing slash refuses a regular file") { error in
            XCTAssertEqual((error as? SystemError)?.object, file + "/")
        }
        XCTAssertNoThrow(try FileSystem.checkAccess(directory.path + "/", .write))
    }

    func testAnExclusiveCreateRefusesAnExistingFile() throws {
        let root = try FileSystem.open(directory.path, .directory)
        defer { root.close() }
        try FileSystem.open("new", in: root, [.writeOnly, .create, .exclusive]).close()
        XCTAssertThrowsError(try FileSystem.open("new", in: root, [.writeOnly, .create, .exclusive])) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .fileExists)
            XCTAssertEqual((error as? SystemError)?.description.hasPrefix("openat(new) failed: EEXIST"), true, "\(error)")
        }
    }

    func testARenameThatFailsNamesBothPaths() throws {
        let from = "\(directory.path)/absent"
        let to = "\(directory.path)/target"
        XCTAssertThrowsError(try FileSystem.rename(from, to: to)) { error in
            XCTAssertEqual((error as? SystemError)?.description, "rename(\(from), \(to)) failed: ENOENT (No such file or directory)")
        }
    }

    // MARK: Names under a directory

    func testRenameAndRemoveWithinADirectory() throws {
        try directory.write("temp", Array("new".utf8))
        try directory.write("name", Array("old".utf8))
        let root = try FileSystem.open(directory.path, .directory)
        defer { root.close() }
        let before = try FileSystem.status(of: "name", in: root)
        try FileSystem.rename("temp", to: "name", in: root)
        XCTAssertEqual(try FileSystem.readFile("\(directory.path)/name", limit: 10), Array("new".utf8))
        XCTAssertNotEqual(try FileSystem.status(of: "name", in: root).inode, before.inode, "the rename replaced the file")
        XCTAssertThrowsError(try FileSystem.status(of: "temp", in: root))
        try FileSystem.remove("name", in: root)
        XCTAssertThrowsError(try FileSystem.remove("name", in: root)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .noSuchFile)
        }
    }

    func testStatusTellsTheKindAndTheSize() throws {
        let file = try directory.write("file", [UInt8](repeating: 0, count: 1234))
        XCTAssertEqual(symlink(file, "\(directory.path)/link"), 0)
        let root = try FileSystem.open(directory.path, .directory)
        defer { root.close() }
        let status = try FileSystem.status(atPath: file)
        XCTAssertEqual(status.kind, .regular)
        XCTAssertEqual(status.size, 1234)
        XCTAssertEqual(try FileSystem.status(of: "link", in: root).kind, .regular, "followed by default")
        XCTAssertEqual(try FileSystem.status(of: "link", in: root, followingSymlinks: false).kind, .symbolicLink)
        XCTAssertEqual(try root.status().kind, .directory)
        let pipe = try FileDescriptor.pipe()
        defer { pipe.read.close(); pipe.write.close() }
        XCTAssertEqual(try pipe.read.status().kind, .fifo)
    }

    /// `openat2(RESOLVE_BENEATH)`: the kernel refuses any way out of the directory (`EXDEV`).
    func testOpenBeneathRefusesEveryWayOutOfTheDirectory() throws {
        let inside = "\(directory.path)/inside"
        XCTAssertEqual(mkdir(inside, 0o755), 0)
        try directory.write("outside", [1])
        try directory.write("inside/file", [2])
        XCTAssertEqual(symlink("../outside", "\(inside)/relative"), 0)
        XCTAssertEqual(symlink("\(directory.path)/outside", "\(inside)/absolute"), 0)
        let root = try FileSystem.open(inside, .directory)
        defer { root.close() }
        do throws(SystemError) {
            try FileSystem.openBeneath("file", in: root).close()
        } catch {
            if error.errno == .notImplemented { throw XCTSkip("openat2 needs Linux 5.6") }
            throw error
        }
        for name in ["../outside", "relative", "absolute", "/etc/hostname"] {
            XCTAssertThrowsError(try FileSystem.openBeneath(name, in: root), name) { error in
                XCTAssertEqual((error as? SystemError)?.errno, .crossDevice, "\(name): \(error)")
                XCTAssertEqual((error as? SystemError)?.syscall, "openat2")
                XCTAssertEqual((error as? SystemError)?.object, name)
            }
        }
    }

    // MARK: Synchronizing and the creation mask

    func testSynchronizeFailsOnAPipeNamingTheCall() throws {
        let pipe = try FileDescriptor.pipe()
        defer { pipe.read.close(); pipe.write.close() }
        XCTAssertThrowsError(try pipe.write.synchronize()) { error in
            XCTAssertEqual((error as? SystemError)?.syscall, "fsync")
            XCTAssertEqual((error as? SystemError)?.errno, .invalidArgument)
        }
    }

    func testTheCreationMaskAppliesInsideAndIsRestoredAfter() throws {
        let old = umask(0o022)
        defer { umask(old) }
        let path = "\(directory.path)/private"
        try FileSystem.withCreationMask(0o077) { () throws(SystemError) in
            try FileSystem.open(path, [.writeOnly, .create], permissions: 0o666).close()
        }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(umask(0o022), 0o022, "the mask in force before is back")
    }
}
