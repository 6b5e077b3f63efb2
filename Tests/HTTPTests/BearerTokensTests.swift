import Foundation
import Testing

@testable import HTTP

/// The tokens file, the header check and the router's gate.
struct BearerTokensTests {
    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func acceptsPlainAndDigestLinesAndNothingElse() throws {
        let digest = Self.hex(BearerTokens.sha256(Array("hashed-secret".utf8)))
        let path = try Self.file("# operators\n\n  alpha-token_1~+/==  \nsha256:\(digest.uppercased())\n# old: beta\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokens = try BearerTokens(path: path)
        #expect(tokens.count == 2)
        #expect(tokens.check("Bearer alpha-token_1~+/==") == nil)
        #expect(tokens.check("bearer   hashed-secret") == nil)  // scheme case-insensitive, several spaces
        #expect(tokens.check(nil) == .missing)
        #expect(tokens.check("Basic YWxhZGRpbjpvcGVuc2VzYW1l") == .malformed)
        #expect(tokens.check("Bearer") == .malformed)
        #expect(tokens.check("Bearer two words") == .malformed)
        #expect(tokens.check("Bearer alpha-token_1~+/=") == .invalid)
        #expect(tokens.check("Bearer beta") == .invalid)  // commented out
        #expect(tokens.check("Bearer \(digest)") == .invalid)  // the digest is not the token
    }

    @Test func refusesFilesThatWouldLockEveryoneOutOrCannotBeRead() throws {
        for (text, fragment) in [
            ("# nothing\n\n", "holds no tokens"), ("good\nbad token\n", "line 2"), ("sha256:abc\n", "64 hexadecimal"),
            ("=leading\n", "line 1"), ("pad=ding\n", "line 1"),
        ] {
            let path = try Self.file(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: TokenFileError.self) { try BearerTokens(path: path) }
            #expect(error?.description.contains(fragment) == true, "\(text): \(String(describing: error))")
            #expect(error?.description.contains("bad token") == false)  // never echoes a line
        }
        #expect(throws: TokenFileError.self) { try BearerTokens(path: "/nonexistent/tokens") }
    }

    @Test func reloadSwapsTheSetAndKeepsItWhenTheNewFileIsBad() throws {
        let path = try Self.file("first\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokens = try BearerTokens(path: path)
        #expect(tokens.reloadIfChanged() == nil)
        try "second\nthird\n".write(toFile: path, atomically: true, encoding: .utf8)  // a new inode, as a Secret update
        guard case .success(2) = tokens.reloadIfChanged() else {
            Issue.record("no reload on change")
            return
        }
        #expect(tokens.check("Bearer first") == .invalid && tokens.check("Bearer third") == nil)
        try "# emptied by mistake\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case .failure = tokens.reloadIfChanged() else {
            Issue.record("an empty file was accepted")
            return
        }
        #expect(tokens.check("Bearer second") == nil && tokens.count == 2)
        #expect(tokens.reloadIfChanged() == nil)  // not retried until the file changes again
    }

    @Test func theRouterChecksTokensBeforeRoutingExceptOnOpenPaths() throws {
        let path = try Self.file("s3cret\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var router = Router()
        router.add(.get, "/healthz") { _, respond in respond(.text("ok")) }
        router.add(.get, "/private") { _, respond in respond(.text("secret")) }
        router.authentication = try BearerTokens(path: path)
        router.openPaths = ["/healthz"]
        func status(_ target: String, _ authorization: String?) throws -> (Int, String?) {
            var headers = HTTPHeaders()
            if let authorization { headers.add(name: "Authorization", value: authorization) }
            let request = try HTTPRequest(method: .get, target: target, headers: headers)
            switch router.decide(request.head, errorResponder: HTTPResponse.defaultError) {
            case .run: return (200, nil)
            case .respond(let response, let error, _): return (response.status.code, error?.code.rawValue)
            }
        }
        #expect(try status("/healthz", nil) == (200, nil))
        #expect(try status("/private", "Bearer s3cret") == (200, nil))
        #expect(try status("/private", nil) == (401, "missing_token"))
        #expect(try status("/private", "Bearer nope") == (401, "invalid_token"))
        #expect(try status("/private", "Token s3cret") == (401, "malformed_authorization"))
        // Unknown paths are refused before routing: no token, no route list.
        #expect(try status("/elsewhere", nil) == (401, "missing_token"))
        #expect(try status("/elsewhere", "Bearer s3cret") == (404, "not_found"))
    }
}
