import Dispatch
import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Decodes on several threads at once must give exactly the serial results (no shared mutable state).
@Suite struct ConcurrencyTests {
    @Test func parallelDecodesMatchSerialOnes() throws {
        let config = try Fixtures.config()
        let names = [
            "cat-baseline-420.jpg", "coffee-progressive.jpg", "cat-cmyk.jpg", "astronaut-exif-orientation6.jpg",
            "coffee-gray.jpg", "bad-truncated-60pct.jpg", "cat-small-40x30.jpg",
        ]
        let inputs = try names.map { try Fixtures.image($0) }
        func run(_ bytes: [UInt8]) -> Result<[Float], ImageDecodeError> {
            var output = [Float](repeating: 0, count: config.outputCount)
            do {
                try bytes.withUnsafeBytes { raw in
                    try output.withUnsafeMutableBufferPointer { _ = try decodeAndPreprocess(raw, config: config, into: $0) }
                }
                return .success(output)
            } catch {
                return .failure(error as! ImageDecodeError)
            }
        }
        let serial = inputs.map(run)
        let rounds = 6
        let results = UnsafeMutableBufferPointer<Result<[Float], ImageDecodeError>?>.allocate(capacity: inputs.count * rounds)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        DispatchQueue.concurrentPerform(iterations: inputs.count * rounds) { i in
            results[i] = run(inputs[i % inputs.count])
        }
        for i in 0..<results.count {
            #expect(results[i] == serial[i % inputs.count], "\(names[i % inputs.count]) differs under concurrency")
        }
    }
}
