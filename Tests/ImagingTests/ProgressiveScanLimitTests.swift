import Testing
@testable import Imaging

/// A valid 8×8 grayscale progressive JPEG whose coefficients are all zero (mid-grey), split into as many
/// scans as the standard allows: a DC scan at Al = 13 and its 13 refinements, then for each of the 63 AC
/// coefficients its own first scan at Al = 13 and up to 13 refinements. Every scan's data is one Huffman
/// code "0" (DC difference 0, or end-of-band) padded with 1 bits.
func manyScanProgressiveJPEG(acRefinements: Int) -> [UInt8] {
    func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }
    func scan(ss: UInt8, se: UInt8, ah: UInt8, al: UInt8) -> [UInt8] {
        segment(0xDA, [1, 1, 0x00, ss, se, ah << 4 | al]) + [0x7F]
    }
    var jpeg: [UInt8] = [0xFF, 0xD8]
    jpeg += segment(0xDB, [0x00] + [UInt8](repeating: 1, count: 64))          // quantization table 0
    jpeg += segment(0xC2, [8, 0, 8, 0, 8, 1, 1, 0x11, 0])                       // SOF2: 8×8, 1 component
    let oneCodeOfLengthOne: [UInt8] = [1] + [UInt8](repeating: 0, count: 15) + [0x00]
    jpeg += segment(0xC4, [0x00] + oneCodeOfLengthOne + [0x10] + oneCodeOfLengthOne) // DC 0 and AC 0 tables
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

    @Test func hundredsOfScansAreRefused() throws {
        // 1 + 13 + 63 · 14 = 896 scans, over the shim's limit of 256.
        let jpeg = manyScanProgressiveJPEG(acRefinements: 13)
        #expect(throws: ImageDecodeError.exceedsDecodingLimits(detail: "Progressive JPEG has more than 256 scans")) {
            try decodeJPEG(jpeg, targetShorterSide: nil)
        }
    }
}
