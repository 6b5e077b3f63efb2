import TestSupport
import Testing

@testable import Imaging

/// A valid grayscale progressive JPEG whose coefficients are all zero (mid-grey), split into as many
/// scans as the standard allows: a DC scan at Al = 13 and its 13 refinements, then for each of the 63 AC
/// coefficients its own first scan at Al = 13 and up to 13 refinements. Every scan's data is the Huffman
/// code "0" (DC difference 0, or end-of-band) once per 8×8 block, padded with 1 bits.
func manyScanProgressiveJPEG(width: Int = 8, height: Int = 8, acRefinements: Int) -> [UInt8] {
    let blocks = (width + 7) / 8 * ((height + 7) / 8)
    // One 0 bit per block; zero bytes need no 0xFF stuffing.
    let scanData = [UInt8](repeating: 0, count: blocks / 8) + (blocks % 8 == 0 ? [] : [UInt8(0xFF >> (blocks % 8))])
    func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }
    func scan(ss: UInt8, se: UInt8, ah: UInt8, al: UInt8) -> [UInt8] {
        segment(0xDA, [1, 1, 0x00, ss, se, ah << 4 | al]) + scanData
    }
    var jpeg: [UInt8] = [0xFF, 0xD8]
    jpeg += segment(0xDB, [0x00] + [UInt8](repeating: 1, count: 64))  // quantization table 0
    jpeg += segment(
        0xC2,
        [
            8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF),
            1, 1, 0x11, 0,
        ])  // SOF2, 1 component
    let oneCodeOfLengthOne: [UInt8] = [1] + [UInt8](repeating: 0, count: 15) + [0x00]
    jpeg += segment(0xC4, [0x00] + oneCodeOfLengthOne + [0x10] + oneCodeOfLengthOne)  // DC 0 and AC 0 tables
    jpeg += scan(ss: 0, se: 0, ah: 0, al: 13)
    for al in stride(from: 12, through: 0, by: -1) {
        jpeg += scan(ss: 0, se: 0, ah: UInt8(al + 1), al: UInt8(al))
    }
    for k in 1...63 {
        jpeg += scan(ss: UInt8(k), se: UInt8(k), ah: 0, al: 13)
        for step in 0..<acRefinements {
            jpeg += scan(ss: UInt8(k), se: UInt8(k), ah: UInt8(13 - step), al: UInt8(12 - step))
        }
    }
    return jpeg + [0xFF, 0xD9]
}

@Suite struct ProgressiveScanLimitTests {
    @Test func aFewScoreScansDecode() throws {
        // 1 + 13 + 63 = 77 scans: well-formed, within the limit, and uniformly mid-grey.
        let image = try decodeJPEG(manyScanProgressiveJPEG(acRefinements: 0), targetShorterSide: nil)
        #expect(image.width == 8 && image.height == 8)
        #expect(image.pixels.allSatisfy { $0 == 128 })
        // 1 + 13 + 63 · 3 = 203 scans, refinement scans included, still decode.
        let refined = try decodeJPEG(manyScanProgressiveJPEG(acRefinements: 2), targetShorterSide: nil)
        #expect(refined.pixels.allSatisfy { $0 == 128 })
    }

    @Test func scanBudgetShrinksWithTheFrame() throws {
        // 64×64 with 77 scans: fine by default, refused when the budget allows only 40 scans of 4096 pixels.
        let jpeg = manyScanProgressiveJPEG(width: 64, height: 64, acRefinements: 0)
        let image = try decodeJPEG(jpeg, targetShorterSide: nil)
        #expect(image.width == 64 && image.pixels.allSatisfy { $0 == 128 })
        let tight = DecodeLimits(maxProgressiveScanPixels: 64 * 64 * 40)
        #expect(throws: ImageDecodeError.exceedsDecodingLimits(detail: "Progressive JPEG has more than 40 scans")) {
            try decodeJPEG(jpeg, limits: tight, targetShorterSide: nil)
        }
        #expect(DecodeLimits().maxScans(pixels: 50_000_000) == 40)
        #expect(DecodeLimits().maxScans(pixels: 12_000_000) == 166)
        #expect(DecodeLimits().maxScans(pixels: 1_000_000) == 256)
        #expect(DecodeLimits(maxProgressiveScanPixels: 0).maxScans(pixels: 10) == 1)
    }

    @Test func hundredsOfScansAreRefused() throws {
        // 1 + 13 + 63 · 14 = 896 scans, over the shim's limit of 256.
        let jpeg = manyScanProgressiveJPEG(acRefinements: 13)
        #expect(throws: ImageDecodeError.exceedsDecodingLimits(detail: "Progressive JPEG has more than 256 scans")) {
            try decodeJPEG(jpeg, targetShorterSide: nil)
        }
    }

    @Test func coefficientMemoryIsBudgeted() throws {
        // 4096² grey progressive: libjpeg keeps 4096² coefficients × 2 bytes = 32 MiB whatever the output scale.
        let large = manyScanProgressiveJPEG(width: 4096, height: 4096, acRefinements: 0)
        let image = try decodeJPEG(large, targetShorterSide: 256)
        #expect(image.pixels.allSatisfy { $0 == 128 })
        do {
            _ = try decodeJPEG(large, limits: DecodeLimits(maxDecoderMemory: 16 << 20), targetShorterSide: 256)
            Issue.record("a 32 MiB coefficient buffer was allowed under a 16 MiB budget")
        } catch let error as ImageDecodeError {
            guard case .exceedsDecodingLimits(let detail) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(detail.contains("16777216 bytes") && error.message.contains("baseline"), "\(error.message)")
        }
        // A baseline file streams: the same budget decodes a 4096² photo.
        let baseline = try Fixtures.image("astronaut-large-4096x4096.jpg")
        let decoded = try decodeJPEG(baseline, limits: DecodeLimits(maxDecoderMemory: 16 << 20), targetShorterSide: 256)
        #expect(decoded.width == 512 && decoded.height == 512)
    }
}
