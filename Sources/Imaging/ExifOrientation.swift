/// EXIF Orientation (TIFF tag 0x0112): how the stored pixels must be turned to show the scene upright.
/// Each case applies the `Image.Transpose` that Pillow's `ImageOps.exif_transpose` uses for that value.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    /// 1: stored upright.
    case up = 1
    /// 2: `FLIP_LEFT_RIGHT`.
    case mirrored = 2
    /// 3: `ROTATE_180`.
    case rotated180 = 3
    /// 4: `FLIP_TOP_BOTTOM`.
    case flippedVertically = 4
    /// 5: `TRANSPOSE` (mirror across the main diagonal).
    case transposed = 5
    /// 6: `ROTATE_270` (a quarter turn clockwise), the usual portrait phone photo.
    case rotatedClockwise = 6
    /// 7: `TRANSVERSE` (mirror across the anti-diagonal).
    case transversed = 7
    /// 8: `ROTATE_90` (a quarter turn counter-clockwise).
    case rotatedCounterClockwise = 8

    /// Whether the upright image has width and height exchanged relative to the stored one.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// Reads the orientation from an Exif TIFF block (starting at its "II"/"MM" byte-order mark). Only
    /// IFD0 is consulted, as Pillow does, so chains of IFDs (and loops in them) are never followed.
    /// Anything malformed or truncated yields `.up` or the value read before the damage — never an error.
    public init(exifTIFF tiff: UnsafeRawBufferPointer) {
        self = .up
        guard tiff.count >= 8 else { return }
        let bigEndian: Bool
        switch (tiff[0], tiff[1], tiff[2], tiff[3]) {
        case (0x49, 0x49, 0x2A, 0x00): bigEndian = false
        case (0x4D, 0x4D, 0x00, 0x2A): bigEndian = true
        default: return
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let a = Int(tiff[at])
            let b = Int(tiff[at + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(bigEndian ? at : at + 2), let low = u16(bigEndian ? at + 2 : at) else { return nil }
            return high << 16 | low
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return }
        for entry in 0..<entries {
            let at = ifd + 2 + 12 * entry
            // A directory cut off mid-way keeps the complete 12-byte entries before the cut, like Pillow's loader.
            guard at + 12 <= tiff.count, let tag = u16(at), let type = u16(at + 2), let count = u32(at + 4) else { return }
            guard tag == 0x0112, count == 1 else { continue }
            let value: Int?
            switch type {
            case 1: value = Int(tiff[at + 8])  // BYTE
            case 3: value = u16(at + 8)  // SHORT, the type the standard prescribes
            case 4: value = u32(at + 8)  // LONG
            default: value = nil
            }
            // Later duplicates override earlier ones (Pillow stores tags in a dict); out-of-range values
            // mean "no transform", as in exif_transpose.
            if let value { self = ExifOrientation(rawValue: value) ?? .up }
        }
    }

    /// The upright RGB8 image from the stored one (`width`×`height`, rows packed); `.up` returns `pixels`.
    func apply(to pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        if self == .up { return pixels }
        let (outWidth, outHeight) = swapsAxes ? (height, width) : (width, height)
        // Upright pixel (x, y) is stored pixel `base + x * dx + y * dy` (indices in pixels).
        let (base, dx, dy): (Int, Int, Int)
        switch self {
        case .up: (base, dx, dy) = (0, 1, width)
        case .mirrored: (base, dx, dy) = (width - 1, -1, width)
        case .rotated180: (base, dx, dy) = ((height - 1) * width + width - 1, -1, -width)
        case .flippedVertically: (base, dx, dy) = ((height - 1) * width, 1, -width)
        case .transposed: (base, dx, dy) = (0, width, 1)
        case .rotatedClockwise: (base, dx, dy) = ((height - 1) * width, -width, 1)
        case .transversed: (base, dx, dy) = ((height - 1) * width + width - 1, -width, -1)
        case .rotatedCounterClockwise: (base, dx, dy) = (width - 1, width, -1)
        }
        return [UInt8](unsafeUninitializedCapacity: pixels.count) { out, initialized in
            pixels.withUnsafeBufferPointer { source in
                let src = source.baseAddress!
                var target = out.baseAddress!
                for y in 0..<outHeight {
                    var index = base + y * dy
                    for _ in 0..<outWidth {
                        let pixel = src + index * 3
                        target[0] = pixel[0]
                        target[1] = pixel[1]
                        target[2] = pixel[2]
                        target += 3
                        index += dx
                    }
                }
            }
            initialized = pixels.count
        }
    }
}
