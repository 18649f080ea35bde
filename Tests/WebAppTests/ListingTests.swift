import Foundation
import Glibc
import Posix
@testable import WebApp
import XCTest

/// The folder listing reads the directory through its own open file description.
final class ListingTests: XCTestCase {
    /// A dup of the root's descriptor shares its directory offset: two listings read at once on two
    /// pool threads then each saw part of the entries (the soak caught a listing without a file that
    /// was there all along). A listing must leave the root's own offset where it was.
    func testAListingNeitherMovesNorSharesTheRootsDirectoryOffset() throws {
        let path = NSTemporaryDirectory() + "listing-\(getpid())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for index in 0..<50 { try "x".write(toFile: path + "/f\(index)", atomically: false, encoding: .utf8) }
        let root = try FileSystem.open(path, .directory)
        defer { root.close() }
        XCTAssertEqual(FileServer.readEntries(root)?.count, 50)
        XCTAssertEqual(lseek(root.rawValue, 0, SEEK_CUR), 0, "the root's offset moved: listings would interfere")
        XCTAssertEqual(FileServer.readEntries(root)?.count, 50, "a second listing sees every entry again")
    }
}
