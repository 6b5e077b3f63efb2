/// A coarse grid of scores (a class activation map) drawn as an image: upsampled bilinearly to the size asked for,
/// scaled min–max to [0, 1] and coloured with the "jet" colour map (blue low, red high), written as an 8-bit indexed
/// PNG (PNG spec, ISO/IEC 15948).
///
/// The PNG's image data is zlib with stored (uncompressed) deflate blocks: a 224×224 map is 50 kB, and writing it
/// needs no compression library (the service links none).
public enum HeatMap {
    /// `grid` (`gridHeight` × `gridWidth`, row by row) resized to `height` × `width` as PyTorch's
    /// `F.interpolate(mode="bilinear", align_corners=False)` and OpenCV's `INTER_LINEAR` do: output pixel centres map to
    /// `(i + 0.5) · in / out − 0.5`, clamped to the grid.
    public static func upsample(_ grid: [Float], gridHeight: Int, gridWidth: Int, height: Int, width: Int) -> [Float] {
        precondition(grid.count == gridHeight * gridWidth && gridHeight > 0 && gridWidth > 0 && height > 0 && width > 0)
        func taps(_ out: Int, _ size: Int) -> [(Int, Int, Float)] {
            (0..<out).map { i in
                let source = max(0, (Float(i) + 0.5) * Float(size) / Float(out) - 0.5)
                let low = min(Int(source), size - 1)
                let high = min(low + 1, size - 1)
                return (low, high, source - Float(low))
            }
        }
        let rows = taps(height, gridHeight)
        let columns = taps(width, gridWidth)
        var out = [Float](repeating: 0, count: height * width)
        for (y, (r0, r1, fy)) in rows.enumerated() {
            for (x, (c0, c1, fx)) in columns.enumerated() {
                let top = grid[r0 * gridWidth + c0] * (1 - fx) + grid[r0 * gridWidth + c1] * fx
                let bottom = grid[r1 * gridWidth + c0] * (1 - fx) + grid[r1 * gridWidth + c1] * fx
                out[y * width + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }

    /// The PNG of `grid` drawn at `height` × `width`.
    public static func png(_ grid: [Float], gridHeight: Int, gridWidth: Int, height: Int, width: Int) -> [UInt8] {
        let values = upsample(grid, gridHeight: gridHeight, gridWidth: gridWidth, height: height, width: width)
        let low = values.min() ?? 0
        let span = (values.max() ?? 0) - low
        // One filter byte (0: none) before each row of palette indices.
        var raw = [UInt8](repeating: 0, count: height * (width + 1))
        for y in 0..<height {
            for x in 0..<width {
                let t = span > 0 ? (values[y * width + x] - low) / span : 0
                raw[y * (width + 1) + 1 + x] = UInt8((t * 255).rounded())
            }
        }
        var header: [UInt8] = []
        append32(UInt32(width), to: &header)
        append32(UInt32(height), to: &header)
        header += [8, 3, 0, 0, 0]  // 8 bits per index, colour type 3 (palette), deflate, adaptive filtering, no interlace
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        chunk("IHDR", header, into: &png)
        chunk("PLTE", palette, into: &png)
        chunk("IDAT", storedZlib(raw), into: &png)
        chunk("IEND", [], into: &png)
        return png
    }

    /// The jet colour map's 256 entries, RGB: each channel `clamp(1.5 − |4t − k|)` for k = 3, 2, 1.
    static let palette: [UInt8] = (0..<256).flatMap { index -> [UInt8] in
        let t = Float(index) / 255
        return [3, 2, 1].map { k in UInt8((min(1, max(0, 1.5 - abs(4 * t - Float(k)))) * 255).rounded()) }
    }

    /// A zlib stream (RFC 1950) of deflate's stored blocks (RFC 1951 §3.2.4), at most 65,535 bytes each.
    static func storedZlib(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65_535, data.count - offset)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<offset + count]
            offset += count
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        append32(b << 16 | a, to: &out)
        return out
    }

    private static func chunk(_ type: String, _ data: [UInt8], into png: inout [UInt8]) {
        append32(UInt32(data.count), to: &png)
        let typed = Array(type.utf8) + data
        png += typed
        append32(crc32(typed), to: &png)
    }

    private static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 PNG chunks end with (ISO 3309, as zlib's `crc32`).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
