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

    func testEmptySegmentsAreSkippedAndEverySegmentMustMatch() {
        let router = makeRouter()
        XCTAssertEqual(handler(router.match(method: "GET", path: "//hello//x/")), "hello")
        XCTAssertEqual(handler(router.match(method: "GET", path: "")), "index")
        guard case .notFound = router.match(method: "GET", path: "/hello") else { return XCTFail("a missing parameter is no match") }
        guard case .notFound = router.match(method: "GET", path: "/hellox/y") else { return XCTFail("literals match whole segments") }
        guard case .notFound = router.match(method: "GET", path: "/hell/y") else { return XCTFail("literals match whole segments") }
    }

    func testSeveralParametersAndAnExplicitHeadRoute() {
        var router = makeRouter()
        router.get("/users/{user}/posts/{post}", "post")
        router.add("HEAD", "/files/{name}", "head")
        guard case let .found(name, parameters) = router.match(method: "GET", path: "/users/ann/posts/42") else {
            return XCTFail("no match")
        }
        XCTAssertEqual(name, "post")
        XCTAssertEqual(parameters["user"], "ann")
        XCTAssertEqual(parameters["post"], "42")
        XCTAssertNil(parameters["name"])
        XCTAssertEqual(handler(router.match(method: "HEAD", path: "/files/x")), "head", "a HEAD route wins over the GET fallback")
        guard case let .found(_, none) = router.match(method: "GET", path: "/healthz") else { return XCTFail("no match") }
        XCTAssertTrue(none.isEmpty)
    }
}
