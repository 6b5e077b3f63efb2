import Foundation
import Testing

@testable import HTTP

/// A small deterministic generator (SplitMix64) so mutation tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Table inputs with random byte flips, insertions, deletions and splices.
func mutatedInputs(count: Int, seed: UInt64) -> [[UInt8]] {
    var rng = SplitMix64(state: seed)
    let sources = (validCases + malformedCases).filter { $0.limits == RequestParser.Limits() }.map(\.input)
    let interesting: [UInt8] = Array(" \t\r\n:;,\"\\0xX-+%#?/*".utf8) + [0, 0x7F, 0x80, 0xFF]
    return (0..<count).map { _ in
        var bytes = sources.randomElement(using: &rng)!
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[position] = interesting.randomElement(using: &rng)!
            case 1: bytes.insert(interesting.randomElement(using: &rng)!, at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            default:
                let other = sources.randomElement(using: &rng)!
                bytes.insert(contentsOf: other.prefix(Int.random(in: 0...other.count, using: &rng)), at: position)
            }
        }
        return bytes
    }
}

/// Whatever the bytes, the outcome does not depend on how they are split, and failures are 4xx.
@Test func mutatedInputsParseTheSameAtEverySplitPoint() {
    for input in mutatedInputs(count: 1500, seed: 42) {
        let whole = trace([input])
        if case .failed(let code) = whole.end {
            #expect((400..<500).contains(code.status.code))
        }
        for split in 0...input.count where trace(input, splitAt: split) != whole {
            Issue.record("split at \(split) differs for \(String(decoding: input, as: UTF8.self).debugDescription)")
            break
        }
    }
}

extension LiveServerTests {
    /// Mutated requests on many connections: the server answers exactly what the parser predicts (every
    /// completed message, then the failure's status), never a 5xx, and ends with no
    /// connection left and still serving.
    @Test func mutatedRequestsNeverHurtTheServer() throws {
        let inputs = mutatedInputs(count: 300, seed: 7)
        // Every method and path the inputs use gets an echo route, so bodies are read rather than refused.
        var router = Router()
        router.add(.get, "/hello") { _, respond in respond(.text("hello")) }
        for input in inputs {
            for head in trace([input]).heads {
                router.add(head.method, head.path) { request, respond in respond(HTTPResponse(body: request.body)) }
            }
        }
        try withLiveServer(router: router) { server, port, _ in
            var answered = 0
            var refused = 0
            for input in inputs {
                let expected = trace([input])
                let client = try RawClient(port: port)
                client.send(input)
                client.finishSending()
                let responses = client.readAllResponses()
                let name = String(decoding: input, as: UTF8.self).debugDescription
                var expectedCount = expected.messages.count
                if case .failed(let code) = expected.end {
                    expectedCount += 1
                    #expect(responses.last?.status == code.status.code, "\(name)")
                }
                #expect(responses.count == expectedCount, "\(responses.map(\.status)) for \(name): \(expected)")
                #expect(responses.allSatisfy { $0.status < 500 }, "\(name)")
                for (response, message) in zip(responses, expected.messages) {
                    #expect(response.body == message.body || message.method == "HEAD", "\(name)")
                }
                answered += responses.filter { $0.status < 400 }.count
                refused += responses.filter { $0.status >= 400 }.count
            }
            // The mutations leave a mix of servable and refused requests (seeded, so these counts are stable).
            #expect(answered >= 15 && refused >= 100, "answered \(answered), refused \(refused)")
            #expect(eventually { server.connectionCount == 0 }, "open: \(server.connectionCount)")
            let client = try RawClient(port: port)
            client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
        }
    }
}
