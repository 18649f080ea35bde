import Posix
import XCTest

/// `Environment`: this process's variables, set, read and removed.
final class EnvironmentTests: XCTestCase {
    let variable = "SUPERVISOR_ENVIRONMENT_TEST_\(Process.id)"

    override func tearDown() { try? Environment.remove(variable) }

    func testSetReadAndRemove() throws {
        XCTAssertNil(Environment.value(variable))
        try Environment.set(variable, to: "one two=three")
        XCTAssertEqual(Environment.value(variable), "one two=three")
        try Environment.set(variable, to: "")
        XCTAssertEqual(Environment.value(variable), "", "set but empty is not unset")
        XCTAssertEqual(Environment.values([variable, variable + "_UNSET"]), [variable: ""], "only the variables that are set")
        try Environment.remove(variable)
        XCTAssertNil(Environment.value(variable))
        XCTAssertNoThrow(try Environment.remove(variable), "removing an unset variable is no error")
    }

    func testAnInvalidNameIsAnErrorNamingIt() {
        XCTAssertThrowsError(try Environment.set("A=B", to: "x")) { error in
            XCTAssertEqual((error as? SystemError)?.description, "setenv(A=B) failed: EINVAL (Invalid argument)")
        }
    }
}
