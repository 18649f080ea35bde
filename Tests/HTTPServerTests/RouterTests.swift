import HTTPServer
import XCTest

final class RouterTests: XCTestCase {
    func makeRouter() -> Router<String> {
        var router = Router<String>()
        router.get("/", "index")
        router.get("/hello/{name}", "hello")
        router.get("/files/{name}", "download")
        router.put("/files/{name}", "upload")
        router.get("/healthz", "health")
        return router
    }

    func handler(_ match: Router<String>.Match) -> String? {
        if case let .found(handler, _) = match { handler } else { nil }
    }

    func testMatchesLiteralsAndParameters() {
        let router = makeRouter()
        XCTAssertEqual(handler(router.match(method: "GET", path: "/")), "index")
        XCTAssertEqual(handler(router.match(method: "GET", path: "/healthz")), "health")
        guard case let .found(name, parameters) = router.match(method: "GET", path: "/hello/J%C3%BCrgen") else {
            return XCTFail("no match")
        }
        XCTAssertEqual(name, "hello")
        XCTAssertEqual(parameters["name"], "J%C3%BCrgen", "parameters stay encoded; handlers decode")
        XCTAssertEqual(handler(router.match(method: "PUT", path: "/files/a.txt")), "upload")
    }

    func testAnEncodedSlashNeverSplitsASegment() {
        let router = makeRouter()
        guard case let .found(_, parameters) = router.match(method: "GET", path: "/files/..%2F..%2Fetc%2Fpasswd") else {
            return XCTFail("no match")
        }
        XCTAssertEqual(parameters["name"], "..%2F..%2Fetc%2Fpasswd")
        if case .found = router.match(method: "GET", path: "/files/../etc/passwd") { XCTFail("a raw slash adds segments: no route") }
    }

    func testHeadFallsBackToGet() {
        XCTAssertEqual(handler(makeRouter().match(method: "HEAD", path: "/files/x")), "download")
    }

    func testWrongMethodIs405WithAllow() {
        guard case let .methodNotAllowed(allowed) = makeRouter().match(method: "DELETE", path: "/files/x") else {
            return XCTFail("expected 405")
        }
        XCTAssertEqual(Set(allowed), ["GET", "HEAD", "PUT"])
    }

    func testUnknownPathIs404() {
        guard case .notFound = makeRouter().match(method: "GET", path: "/nope") else { return XCTFail("expected 404") }
        guard case .notFound = makeRouter().match(method: "GET", path: "/hello/a/b") else { return XCTFail("expected 404") }
    }
}
