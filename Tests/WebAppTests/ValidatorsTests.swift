import WebApp
import XCTest

final class ValidatorsTests: XCTestCase {
    let validators = Validators(size: 13, modifiedSeconds: 784_111_777, modifiedNanoseconds: 5)

    func testEntityTagChangesWithSizeAndTime() {
        XCTAssertEqual(validators.entityTag, "\"d-2ebc98a100000005\"")
        XCTAssertNotEqual(Validators(size: 14, modifiedSeconds: 784_111_777, modifiedNanoseconds: 5).entityTag, validators.entityTag)
        XCTAssertNotEqual(Validators(size: 13, modifiedSeconds: 784_111_777, modifiedNanoseconds: 6).entityTag, validators.entityTag)
    }

    func testIfNoneMatch() {
        XCTAssertTrue(validators.notModified(ifNoneMatch: validators.entityTag, ifModifiedSince: nil))
        XCTAssertTrue(validators.notModified(ifNoneMatch: "W/\(validators.entityTag)", ifModifiedSince: nil), "weak comparison")
        XCTAssertTrue(validators.notModified(ifNoneMatch: "\"other\", \(validators.entityTag)", ifModifiedSince: nil))
        XCTAssertTrue(validators.notModified(ifNoneMatch: "*", ifModifiedSince: nil))
        XCTAssertFalse(validators.notModified(ifNoneMatch: "\"other\"", ifModifiedSince: nil))
        XCTAssertFalse(validators.notModified(ifNoneMatch: "\"other\"", ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT"),
                       "If-Modified-Since is ignored when If-None-Match is present")
    }

    func testIfModifiedSince() {
        XCTAssertTrue(validators.notModified(ifNoneMatch: nil, ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT"))
        XCTAssertTrue(validators.notModified(ifNoneMatch: nil, ifModifiedSince: "Mon, 07 Nov 1994 08:49:37 GMT"))
        XCTAssertFalse(validators.notModified(ifNoneMatch: nil, ifModifiedSince: "Sat, 05 Nov 1994 08:49:37 GMT"))
        XCTAssertFalse(validators.notModified(ifNoneMatch: nil, ifModifiedSince: "not a date"))
    }

    func testIfRange() {
        XCTAssertTrue(validators.rangeApplies(ifRange: nil))
        XCTAssertTrue(validators.rangeApplies(ifRange: validators.entityTag))
        XCTAssertFalse(validators.rangeApplies(ifRange: "W/\(validators.entityTag)"), "If-Range needs a strong match")
        XCTAssertFalse(validators.rangeApplies(ifRange: "\"stale\""))
        XCTAssertTrue(validators.rangeApplies(ifRange: "Sun, 06 Nov 1994 08:49:37 GMT"))
        XCTAssertFalse(validators.rangeApplies(ifRange: "Sat, 05 Nov 1994 08:49:37 GMT"))
    }
}
