import TestSupport
import Testing

@testable import Imaging

/// Builds Exif TIFF blocks (IFD0 only unless told) in either byte order.
struct TIFFBuilder {
    var bigEndian: Bool

    func u16(_ value: Int) -> [UInt8] {
        let bytes = [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        return bigEndian ? bytes : bytes.reversed()
    }

    func u32(_ value: Int) -> [UInt8] {
        let bytes = [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        return bigEndian ? bytes : bytes.reversed()
    }

    var header: [UInt8] { bigEndian ? [0x4D, 0x4D, 0x00, 0x2A] : [0x49, 0x49, 0x2A, 0x00] }

    /// One IFD entry; `value` is left-justified in the 4-byte value field, as TIFF stores short values.
    func entry(tag: Int, type: Int, count: Int, value: Int) -> [UInt8] {
        let field: [UInt8]
        switch type {
        case 1: field = [UInt8(value & 0xFF), 0, 0, 0]
        case 3: field = u16(value) + [0, 0]
        default: field = u32(value)
        }
        return u16(tag) + u16(type) + u32(count) + field
    }

    /// Header, IFD0 at offset 8 with `entries`, then the next-IFD offset.
    func tiff(entries: [[UInt8]], nextIFD: Int = 0) -> [UInt8] {
        header + u32(8) + u16(entries.count) + entries.flatMap { $0 } + u32(nextIFD)
    }

    /// A typical camera IFD0: a few tags around Orientation (SHORT).
    func camera(orientation: Int) -> [UInt8] {
        tiff(entries: [
            entry(tag: 0x010F, type: 2, count: 4, value: 0x4142_4300),  // Make "ABC"
            entry(tag: 0x0112, type: 3, count: 1, value: orientation),
            entry(tag: 0x011A, type: 5, count: 1, value: 0x100),  // XResolution, offset (not followed)
        ])
    }
}

func orientation(of tiff: [UInt8]) -> ExifOrientation {
    tiff.withUnsafeBytes { ExifOrientation(exifTIFF: $0) }
}

@Suite struct ExifOrientationTests {
    @Test(arguments: [false, true], 1...8)
    func readsEveryOrientationInBothByteOrders(bigEndian: Bool, value: Int) {
        let builder = TIFFBuilder(bigEndian: bigEndian)
        #expect(orientation(of: builder.camera(orientation: value)) == ExifOrientation(rawValue: value))
    }

    @Test(arguments: [false, true])
    func acceptsLongAndByteTypes(bigEndian: Bool) {
        let b = TIFFBuilder(bigEndian: bigEndian)
        #expect(orientation(of: b.tiff(entries: [b.entry(tag: 0x0112, type: 4, count: 1, value: 6)])) == .rotatedClockwise)
        #expect(orientation(of: b.tiff(entries: [b.entry(tag: 0x0112, type: 1, count: 1, value: 8)])) == .rotatedCounterClockwise)
    }

    @Test(arguments: [false, true])
    func outOfRangeOrOddlyShapedValuesMeanUpright(bigEndian: Bool) {
        let b = TIFFBuilder(bigEndian: bigEndian)
        for value in [0, 9, 255, 0xFFFF] {
            #expect(orientation(of: b.camera(orientation: value)) == .up)
        }
        // Count ≠ 1 (Pillow reads a tuple, which exif_transpose ignores) and unknown types.
        #expect(orientation(of: b.tiff(entries: [b.entry(tag: 0x0112, type: 3, count: 2, value: 6)])) == .up)
        #expect(orientation(of: b.tiff(entries: [b.entry(tag: 0x0112, type: 13, count: 1, value: 6)])) == .up)
    }

    @Test func laterDuplicateWinsAsInPillow() {
        let b = TIFFBuilder(bigEndian: false)
        let tiff = b.tiff(entries: [
            b.entry(tag: 0x0112, type: 3, count: 1, value: 3),
            b.entry(tag: 0x0112, type: 3, count: 1, value: 6),
        ])
        #expect(orientation(of: tiff) == .rotatedClockwise)
    }

    @Test(arguments: [false, true])
    func truncatedBlocksNeverTrap(bigEndian: Bool) {
        let tiff = TIFFBuilder(bigEndian: bigEndian).camera(orientation: 6)
        // Every cut: before the Orientation entry is complete → upright; after it → still read.
        let orientationEntryEnd = 8 + 2 + 12 * 2
        for length in 0..<tiff.count {
            let expected: ExifOrientation = length >= orientationEntryEnd ? .rotatedClockwise : .up
            #expect(orientation(of: Array(tiff[0..<length])) == expected, "cut at \(length)")
        }
    }

    @Test(arguments: [false, true])
    func loopingAndWildOffsetsTerminate(bigEndian: Bool) {
        let b = TIFFBuilder(bigEndian: bigEndian)
        // IFD0's next pointer loops back to IFD0 (and to the header): only IFD0 is read.
        #expect(
            orientation(of: b.tiff(entries: [b.entry(tag: 0x0112, type: 3, count: 1, value: 8)], nextIFD: 8))
                == .rotatedCounterClockwise)
        #expect(
            orientation(of: b.tiff(entries: [b.entry(tag: 0x0112, type: 3, count: 1, value: 8)], nextIFD: 0)) == .rotatedCounterClockwise)
        // IFD0 offset pointing at the header itself, past the end, and at the maximum 32-bit value.
        for ifd in [0, 4, 1000, 0xFFFF_FFFF] {
            let tiff = b.header + b.u32(ifd) + b.u16(1) + b.entry(tag: 0x0112, type: 3, count: 1, value: 6) + b.u32(0)
            #expect(orientation(of: tiff) == .up, "IFD0 at \(ifd)")
        }
        // A directory claiming 65535 entries in a 30-byte block.
        let huge = b.header + b.u32(8) + b.u16(0xFFFF) + b.entry(tag: 0x0112, type: 3, count: 1, value: 6)
        #expect(orientation(of: huge) == .rotatedClockwise)
    }

    @Test func wrongByteOrderMarkIsIgnored() {
        var tiff = TIFFBuilder(bigEndian: false).camera(orientation: 6)
        tiff[0] = 0x4D  // "MI*\0"
        #expect(orientation(of: tiff) == .up)
        #expect(orientation(of: [0x49, 0x49, 0x2B, 0x00, 8, 0, 0, 0]) == .up)  // BigTIFF magic
    }

    /// Expected results produced by Pillow 13 (`Image.transpose` with the method exif_transpose picks)
    /// on the 3×2 image [[0, 1, 2], [3, 4, 5]].
    static let pillowTransposes: [Int: (width: Int, height: Int, values: [UInt8])] = [
        1: (3, 2, [0, 1, 2, 3, 4, 5]),
        2: (3, 2, [2, 1, 0, 5, 4, 3]),
        3: (3, 2, [5, 4, 3, 2, 1, 0]),
        4: (3, 2, [3, 4, 5, 0, 1, 2]),
        5: (2, 3, [0, 3, 1, 4, 2, 5]),
        6: (2, 3, [3, 0, 4, 1, 5, 2]),
        7: (2, 3, [5, 2, 4, 1, 3, 0]),
        8: (2, 3, [2, 5, 1, 4, 0, 3]),
    ]

    @Test(arguments: 1...8)
    func appliesOrientationAsPillowDoes(value: Int) throws {
        let orientation = try #require(ExifOrientation(rawValue: value))
        // Each pixel is (v, v + 10, v + 20) so channel order is checked too.
        let stored: [UInt8] = [0, 1, 2, 3, 4, 5].flatMap { (v: UInt8) -> [UInt8] in [v, v + 10, v + 20] }
        let upright = orientation.apply(to: stored, width: 3, height: 2)
        let expected = try #require(Self.pillowTransposes[value])
        #expect((orientation.swapsAxes ? 2 : 3) == expected.width)
        let expectedPixels: [UInt8] = expected.values.flatMap { (v: UInt8) -> [UInt8] in [v, v + 10, v + 20] }
        #expect(upright == expectedPixels)
    }
}

/// EXIF blocks spliced into a real JPEG, decoded end to end.
@Suite struct ExifDecodeTests {
    /// `jpeg` with an APP1 Exif segment carrying `tiff` inserted right after SOI.
    static func withExif(_ jpeg: [UInt8], tiff: [UInt8], signature: [UInt8] = Array("Exif\0\0".utf8)) -> [UInt8] {
        let payload = signature + tiff
        let length = payload.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg[2...]
    }

    @Test(arguments: [false, true], 1...8)
    func decodedPixelsFollowTheOrientation(bigEndian: Bool, value: Int) throws {
        let plainBytes = try Fixtures.image("cat-small-40x30.jpg")
        let plain = try decodeJPEG(plainBytes, targetShorterSide: nil)
        let tagged = Self.withExif(plainBytes, tiff: TIFFBuilder(bigEndian: bigEndian).camera(orientation: value))
        let image = try decodeJPEG(tagged, targetShorterSide: nil)
        let orientation = try #require(ExifOrientation(rawValue: value))
        #expect(image.orientation == orientation)
        #expect(image.width == (orientation.swapsAxes ? 30 : 40))
        #expect(image.originalWidth == image.width && image.originalHeight == image.height)
        // Independent statement of each transform: upright (x, y) ← stored (sx, sy).
        let (w, h) = (plain.width, plain.height)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (sx, sy): (Int, Int)
                switch value {
                case 1: (sx, sy) = (x, y)
                case 2: (sx, sy) = (w - 1 - x, y)
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                case 4: (sx, sy) = (x, h - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, h - 1 - x)
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                default: (sx, sy) = (w - 1 - y, x)
                }
                let got = image.pixels[(y * image.width + x) * 3..<(y * image.width + x) * 3 + 3]
                let want = plain.pixels[(sy * w + sx) * 3..<(sy * w + sx) * 3 + 3]
                guard got == want else {
                    Issue.record("orientation \(value): pixel (\(x), \(y)) differs")
                    return
                }
            }
        }
    }

    @Test func malformedExifIsIgnoredNotFatal() throws {
        let plainBytes = try Fixtures.image("cat-small-40x30.jpg")
        let plain = try decodeJPEG(plainBytes, targetShorterSide: nil)
        let b = TIFFBuilder(bigEndian: true)
        let cases: [[UInt8]] = [
            [],
            [0x4D, 0x4D],
            b.header + b.u32(0xFFFF_FF00),
            Array(b.camera(orientation: 6).prefix(15)),
            b.header + b.u32(8) + b.u16(0xFFFF),
        ]
        for tiff in cases {
            let image = try decodeJPEG(Self.withExif(plainBytes, tiff: tiff), targetShorterSide: nil)
            #expect(image.orientation == .up)
            #expect(image.pixels == plain.pixels)
        }
        // An APP1 that is not Exif (e.g. XMP) is not parsed at all.
        let xmp = Self.withExif(plainBytes, tiff: b.camera(orientation: 6), signature: Array("http://ns.adobe.com/xap/1.0/\0".utf8))
        #expect(try decodeJPEG(xmp, targetShorterSide: nil).orientation == .up)
    }

    @Test func firstExifSegmentWins() throws {
        let plainBytes = try Fixtures.image("cat-small-40x30.jpg")
        let b = TIFFBuilder(bigEndian: false)
        let inner = Self.withExif(plainBytes, tiff: b.camera(orientation: 3))
        let outer = Self.withExif(inner, tiff: b.camera(orientation: 6))
        #expect(try decodeJPEG(outer, targetShorterSide: nil).orientation == .rotatedClockwise)
    }
}
