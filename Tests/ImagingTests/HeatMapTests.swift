import Testing

@testable import Imaging

/// The heat map's PNG writer and bilinear upsampling; Pillow decodes the PNGs in Tests/python/test_explain.py.
@Suite struct HeatMapTests {
    @Test func checksumsAreTheStandardOnes() {
        // The CRC of every IEND chunk, and Adler-32's example from RFC 1950's reference (zlib's adler32("Wikipedia")).
        #expect(HeatMap.crc32(Array("IEND".utf8)) == 0xAE42_6082)
        let zlib = HeatMap.storedZlib(Array("Wikipedia".utf8))
        #expect(Array(zlib.suffix(4)) == [0x11, 0xE6, 0x03, 0x98])
        #expect(Array(zlib.prefix(7)) == [0x78, 0x01, 1, 9, 0, 0xF6, 0xFF])
    }

    @Test func storedBlocksSplitAt65535Bytes() {
        let zlib = HeatMap.storedZlib([UInt8](repeating: 7, count: 70_000))
        // Header, block 1 (not final, 65,535 bytes), block 2 (final, 4,465), Adler-32.
        #expect(zlib.count == 2 + 5 + 65_535 + 5 + 4_465 + 4)
        #expect(zlib[2] == 0 && zlib[3] == 0xFF && zlib[4] == 0xFF)
        #expect(zlib[2 + 5 + 65_535] == 1)
    }

    @Test func upsamplingIsBilinearWithHalfPixelCentres() {
        // 2 → 4 samples: centres at −0.25, 0.25, 0.75, 1.25 of the grid, clamped: 0, ¼, ¾, 1 of the way.
        let row = HeatMap.upsample([0, 4], gridHeight: 1, gridWidth: 2, height: 1, width: 4)
        #expect(row == [0, 1, 3, 4])
        let grid: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        #expect(HeatMap.upsample(grid, gridHeight: 3, gridWidth: 3, height: 3, width: 3) == grid)
        let constant = HeatMap.upsample([Float](repeating: 2.5, count: 49), gridHeight: 7, gridWidth: 7, height: 224, width: 224)
        #expect(constant.allSatisfy { $0 == 2.5 })
    }

    @Test func pngHasItsChunksInOrder() {
        let png = HeatMap.png([0, 1, 2, 3], gridHeight: 2, gridWidth: 2, height: 5, width: 3)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var types: [String] = []
        var offset = 8
        while offset + 8 <= png.count {
            let length = png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: png[offset + 4..<offset + 8], as: UTF8.self))
            offset += 12 + length
        }
        #expect(types == ["IHDR", "PLTE", "IDAT", "IEND"] && offset == png.count)
        // Width 3, height 5, 8-bit palette.
        #expect(Array(png[16..<26]) == [0, 0, 0, 3, 0, 0, 0, 5, 8, 3])
        #expect(HeatMap.palette.count == 768 && HeatMap.palette.prefix(3) == [0, 0, 128] && HeatMap.palette.suffix(3) == [128, 0, 0])
    }
}
