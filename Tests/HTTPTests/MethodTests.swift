import Testing

@testable import HTTP

@Test func methodsCompareByToken() {
    #expect(HTTPMethod("GET") == .get)
    #expect(HTTPMethod("get") != .get)
}
