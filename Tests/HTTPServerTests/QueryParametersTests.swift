import HTTPServer
import XCTest

/// The query's form decoding, pair by pair: where a pair splits, what `+` and `%` mean, and what
/// is left out.
final class QueryParametersTests: XCTestCase {
    func testPairsSplitAtAmpersandsAndTheFirstEquals() {
        let query = QueryParameters(parsing: "a=1=2&=x&flag&&b=")
        XCTAssertEqual(query.pairs.map(\.name), ["a", "", "flag", "b"])
        XCTAssertEqual(query.pairs.map(\.value), ["1=2", "x", "", ""])
        XCTAssertEqual(query.malformed, 0)
    }

    func testPlusIsASpaceAndAnEncodedPlusIsAPlus() {
        let query = QueryParameters(parsing: "q=a+b%2Bc&na+me=%E2%82%AC")
        XCTAssertEqual(query["q"], "a b+c")
        XCTAssertEqual(query["na me"], "€")
    }

    /// A pair that does not decode is left out whole and counted, never passed on half-decoded.
    func testUndecodablePairsAreLeftOutAndCounted() {
        let query = QueryParameters(parsing: "a=%zz&b=%ff&c=%4&d=ok&%=e")
        XCTAssertEqual(query.pairs.map(\.name), ["d"])
        XCTAssertEqual(query.malformed, 4)
    }

    func testRepeatedNamesKeepTheirOrder() {
        let query = QueryParameters(parsing: "tag=b&x=1&tag=a")
        XCTAssertEqual(query["tag"], "b", "the first")
        XCTAssertEqual(query.all("tag"), ["b", "a"])
        XCTAssertEqual(query.all("missing"), [])
        XCTAssertNil(query["Tag"], "names are case-sensitive")
        XCTAssertTrue(QueryParameters(parsing: nil).isEmpty)
    }
}
