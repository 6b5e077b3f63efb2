import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Hostile and broken inputs: each gives its typed error, promptly, and never crashes.
@Suite struct BadInputTests {
    enum Expected {
        case empty, notJPEG, truncated, corrupt, unsupported, tooManyPixels

        func matches(_ error: ImageDecodeError) -> Bool {
            switch (self, error) {
            case (.empty, .empty), (.notJPEG, .notJPEG), (.truncated, .truncated), (.corrupt, .corrupt),
                (.unsupported, .unsupported), (.tooManyPixels, .tooManyPixels):
                return true
            default:
                return false
            }
        }
    }

    static let fixtures: [(String, Expected)] = [
        ("bad-empty.jpg", .empty),
        ("bad-not-an-image.jpg", .notJPEG),
        ("bad-png-named-jpg.jpg", .notJPEG),
        ("bad-garbage-after-soi.jpg", .corrupt),
        ("bad-header-only.jpg", .truncated),
        ("bad-truncated-60pct.jpg", .truncated),
        ("bad-bomb-65000x65000.jpg", .tooManyPixels),
    ]

    @Test func everyBadFixtureHasAnExpectation() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.root.appendingPathComponent("images").path)
            .filter { $0.hasPrefix("bad-") }
        #expect(Set(names) == Set(Self.fixtures.map(\.0)))
    }

    @Test(arguments: fixtures.map(\.0))
    func badFixtureIsRefused(name: String) throws {
        let expected = Self.fixtures.first { $0.0 == name }!.1
        let bytes = try Fixtures.image(name)
        let config = try Fixtures.config()
        var output = [Float](repeating: 0, count: config.outputCount)
        do {
            try bytes.withUnsafeBytes { raw in
                try output.withUnsafeMutableBufferPointer { _ = try decodeAndPreprocess(raw, config: config, into: $0) }
            }
            Issue.record("\(name) was accepted")
        } catch let error as ImageDecodeError {
            #expect(expected.matches(error), "\(name): got \(error)")
            #expect(!error.message.isEmpty)
            print("\(name): \(error.message)")
        }
    }

    @Test func bombIsRefusedFromTheHeaderAlone() throws {
        let bytes = try Fixtures.image("bad-bomb-65000x65000.jpg")
        let refusal = ImageDecodeError.tooManyPixels(width: 65000, height: 65000, limit: 50_000_000)
        #expect(throws: refusal) { try decodeJPEG(bytes, targetShorterSide: nil) }
        // Proof that no image data is read (so no pixel memory is allocated): the file cut just after its
        // start-of-scan header, with no entropy-coded data at all, is refused the same way, where decoding would
        // have reported a truncation.
        var offset = 2
        var headersEnd: Int?
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            offset += 2 + length
            if marker == 0xDA {
                headersEnd = offset
                break
            }
        }
        let end = try #require(headersEnd, "no start-of-scan segment found in the bomb")
        #expect(end < bytes.count)
        #expect(throws: refusal) { try decodeJPEG(Array(bytes[..<end]), targetShorterSide: nil) }
    }

    @Test func pixelBudgetIsConfigurable() throws {
        let bytes = try Fixtures.image("cat-baseline-420.jpg")  // 451×300 = 135 300 pixels
        #expect(throws: ImageDecodeError.tooManyPixels(width: 451, height: 300, limit: 135_299)) {
            try decodeJPEG(bytes, limits: DecodeLimits(maxPixels: 135_299), targetShorterSide: nil)
        }
        let image = try decodeJPEG(bytes, limits: DecodeLimits(maxPixels: 135_300), targetShorterSide: nil)
        #expect(image.width == 451 && image.height == 300)
    }

    /// The first frame marker (SOF0 for the baseline fixture) and its offset.
    static func frameHeaderOffset(_ bytes: [UInt8]) -> Int? {
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) { return at }
            at += 2 + Int(bytes[at + 2]) << 8 + Int(bytes[at + 3])
        }
        return nil
    }

    @Test func twelveBitPrecisionIsUnsupported() throws {
        var bytes = try Fixtures.image("cat-baseline-420.jpg")
        let sof = try #require(Self.frameHeaderOffset(bytes))
        bytes[sof + 4] = 12  // sample precision
        #expect {
            _ = try decodeJPEG(bytes, targetShorterSide: nil)
        } throws: { error in
            guard case .unsupported(let detail) = error as? ImageDecodeError else { return false }
            return detail.contains("precision 12")
        }
    }

    @Test func losslessProcessIsUnsupported() throws {
        var bytes = try Fixtures.image("cat-baseline-420.jpg")
        let sof = try #require(Self.frameHeaderOffset(bytes))
        bytes[sof + 1] = 0xC3  // SOF3: lossless Huffman
        #expect {
            _ = try decodeJPEG(bytes, targetShorterSide: nil)
        } throws: { error in
            guard case .unsupported = error as? ImageDecodeError else { return false }
            return true
        }
    }

    /// Rewrites the baseline fixture's frame and scan headers to declare only two components (the
    /// entropy data is left alone: the header alone must be enough to refuse it).
    static func twoComponentJPEG() throws -> [UInt8] {
        let bytes = try Fixtures.image("cat-baseline-420.jpg")
        var out: [UInt8] = [0xFF, 0xD8]
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            let length = Int(bytes[at + 2]) << 8 + Int(bytes[at + 3])
            var payload = Array(bytes[(at + 4)..<(at + 2 + length)])
            if marker == 0xC0 {
                payload[5] = 2
                payload.removeLast(3)
            }  // Nf 3 → 2
            if marker == 0xDA {
                payload[0] = 2
                payload.removeSubrange(5..<7)
            }  // Ns 3 → 2
            out += [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
            at += 2 + length
            if marker == 0xDA { break }
        }
        return out + bytes[at...]
    }

    @Test func twoComponentFrameIsUnsupported() throws {
        #expect(throws: ImageDecodeError.unsupported(detail: "Unsupported number of colour components: 2 (expected 1, 3 or 4)")) {
            try decodeJPEG(try Self.twoComponentJPEG(), targetShorterSide: nil)
        }
    }

    @Test func corruptEntropyDataIsAnErrorNotGreyPixels() throws {
        var bytes = try Fixtures.image("cat-baseline-420.jpg")
        // Overwrite a stretch of scan data with 0xFF 0xD0-style garbage: libjpeg only warns about it.
        let middle = bytes.count / 2
        for i in middle..<(middle + 64) { bytes[i] = i % 2 == 0 ? 0xFF : 0x00 }
        for i in (middle + 64)..<(middle + 80) { bytes[i] = 0xFF }
        bytes[middle + 80] = 0xD5
        #expect(throws: ImageDecodeError.self) { try decodeJPEG(bytes, targetShorterSide: nil) }
    }

    @Test func everyPrefixOfAValidFileIsRefusedCleanly() throws {
        let bytes = try Fixtures.image("cat-small-40x30.jpg")
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            #expect(throws: ImageDecodeError.self, "prefix of \(length) bytes") {
                try decodeJPEG(prefix, targetShorterSide: 235)
            }
        }
    }

    @Test func messagesAreClientFacing() {
        #expect(ImageDecodeError.empty.message.contains("empty"))
        #expect(ImageDecodeError.notJPEG.message.contains("not a JPEG"))
        #expect(ImageDecodeError.corrupt(detail: "Bogus marker length").message.contains("Bogus marker length"))
        #expect(ImageDecodeError.tooManyPixels(width: 65000, height: 65000, limit: 50_000_000).message.contains("65000×65000"))
    }
}
