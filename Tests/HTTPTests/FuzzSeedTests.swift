import Foundation
import Testing

@testable import HTTP

/// The libFuzzer seed corpora in Fuzz/HTTP/seeds are the parser table, the llhttp corpus and the multipart
/// cases. This test keeps them in sync: run with UPDATE_FUZZ_SEEDS=1 to rewrite them.
private let seedRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/HTTP/seeds")

private func fileName(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber ? $0 : "-" }).lowercased()
}

func requestSeeds() -> [String: [UInt8]] {
    var seeds: [String: [UInt8]] = [:]
    for c in validCases + malformedCases { seeds["table-" + fileName(c.name)] = c.input }
    for (i, c) in llhttpCases.enumerated() { seeds["llhttp-\(i)-" + fileName(c.name)] = c.request }
    return seeds
}

func multipartSeeds() -> [String: [UInt8]] {
    let part =
        "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\u{FF}\u{D8}data\r\n"
    return [
        "file": Array(("multipart/form-data; boundary=B\n" + part + "--B--\r\n").utf8),
        "two-parts": Array(
            ("multipart/form-data; boundary=\"B\"\n" + "--B\r\nContent-Disposition: form-data; name=top_k\r\n\r\n5\r\n" + part + "--B--")
                .utf8),
        "preamble": Array(("multipart/form-data; boundary=B\npreamble\r\n" + part + "--B--\r\nepilogue").utf8),
        "empty": Array("multipart/form-data; boundary=B\n--B--".utf8),
    ]
}

@Test func fuzzSeedCorporaMatchTheTables() throws {
    let update = ProcessInfo.processInfo.environment["UPDATE_FUZZ_SEEDS"] != nil
    for (directory, seeds) in [("request", requestSeeds()), ("multipart", multipartSeeds())] {
        let folder = seedRoot.appendingPathComponent(directory)
        if update {
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, bytes) in seeds { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(Set(files) == Set(seeds.keys), "\(directory): run UPDATE_FUZZ_SEEDS=1 swift test --filter fuzzSeedCorporaMatchTheTables")
        for (name, bytes) in seeds {
            #expect(try Data(contentsOf: folder.appendingPathComponent(name)) == Data(bytes), "\(directory)/\(name)")
        }
    }
}
