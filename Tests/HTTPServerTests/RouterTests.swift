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

    /// Values are cut from the path's bytes where they lie: the first three kept inline, the rest
    /// spilled, each one whole (longer than a small string, percent-escapes left as sent).
    func testEveryParameterOfALongRouteIsItsOwnSegment() {
        var router = Router<String>()
        router.get("/{a}/x/{b}/{c}/{d}/{e}", "five")
        let path = "//first-value-longer-than-sixteen/x/b%20c/3/fourth/" + String(repeating: "e", count: 40)
        guard case let .found(name, parameters) = router.match(method: "GET", path: path[...]) else {
            return XCTFail("no match")
        }
        XCTAssertEqual(name, "five")
        XCTAssertEqual(parameters["a"], "first-value-longer-than-sixteen")
        XCTAssertEqual(parameters["b"], "b%20c")
        XCTAssertEqual(parameters["c"], "3")
        XCTAssertEqual(parameters["d"], "fourth")
        XCTAssertEqual(parameters["e"].map(String.init), String(repeating: "e", count: 40))
        XCTAssertNil(parameters["x"])
    }

    /// Routes are passed over by their first segment before the path is walked: a literal of the
    /// same length but another first byte, or of another length, never matches; a parameter first
    /// takes any segment; `/` takes only a path with none.
    func testTheFirstSegmentDecidesWhichRoutesAreTried() {
        var router = Router<String>()
        router.get("/", "index")
        router.get("/abc/{x}", "abc")
        router.get("/xbc/{x}", "xbc")
        router.get("/{any}/tail", "any-then-tail")
        XCTAssertEqual(handler(router.match(method: "GET", path: "/abc/1")), "abc")
        XCTAssertEqual(handler(router.match(method: "GET", path: "/xbc/1")), "xbc", "same length, another first byte")
        XCTAssertEqual(handler(router.match(method: "GET", path: "/abcd/tail")), "any-then-tail", "a parameter takes any first segment")
        XCTAssertEqual(handler(router.match(method: "GET", path: "/abc/tail")), "abc", "the first route that matches wins")
        XCTAssertEqual(handler(router.match(method: "GET", path: "///")), "index", "only slashes: no segment")
        guard case .notFound = router.match(method: "GET", path: "/ab/1") else { return XCTFail("a shorter literal is no match") }
        guard case .notFound = router.match(method: "GET", path: "/abc") else { return XCTFail("a missing parameter is no match") }
        guard case let .methodNotAllowed(allowed) = router.match(method: "POST", path: "/xbc/2") else { return XCTFail("expected 405") }
        XCTAssertEqual(Set(allowed), ["GET", "HEAD"])
        XCTAssertEqual(handler(router.match(method: "HEAD", path: "//xbc//3")), "xbc", "HEAD falls back to GET through the filter too")
    }
}
