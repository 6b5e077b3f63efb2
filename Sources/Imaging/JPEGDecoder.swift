import CJPEG

/// Bounds applied to untrusted JPEGs before any pixel memory is allocated.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest accepted width × height of the stored frame (default 50 megapixels).
    public var maxPixels: Int
    /// Largest scans × width × height a progressive file may demand. Each scan walks the whole frame's
    /// coefficients, so this bounds decode time independently of file size: a 115 KB file declaring
    /// 7000² pixels and 253 scans took 5.8 s here. The default (2 × 10⁹, about 1 s) allows 40 scans at
    /// 50 MP, 166 at 12 MP and the absolute cap of 256 below 7.8 MP; encoders write about 10.
    public var maxProgressiveScanPixels: Int
    /// Most memory libjpeg may take for one decode. Progressive and multi-scan files keep every DCT coefficient
    /// of the full-size frame (2 bytes per sample, whatever the output scale): 150 MB for a 50 MP 4:2:0 file,
    /// 400 MB for a 50 MP CMYK one. The default (256 MiB) admits every 4:2:0 file under `maxPixels` and
    /// keeps two concurrent decodes within half a gigabyte; baseline files need only a few rows.
    public var maxDecoderMemory: Int

    /// Limits with the given budgets.
    public init(maxPixels: Int = 50_000_000, maxProgressiveScanPixels: Int = 2_000_000_000, maxDecoderMemory: Int = 256 << 20) {
        self.maxPixels = maxPixels
        self.maxProgressiveScanPixels = maxProgressiveScanPixels
        self.maxDecoderMemory = maxDecoderMemory
    }

    /// Scans allowed for a `pixels`-pixel frame: the work budget divided by the frame, between 1 and the
    /// shim's absolute cap.
    func maxScans(pixels: Int) -> Int {
        min(Int(CJPEG_MAX_SCANS), max(1, maxProgressiveScanPixels / max(pixels, 1)))
    }
}

/// A decoded, upright RGB8 image, possibly reduced by libjpeg's DCT scaling.
public struct DecodedImage: Sendable {
    /// Size of `pixels` (after EXIF orientation, at the decode scale).
    public let width: Int
    /// Rows in `pixels`.
    public let height: Int
    /// Interleaved RGB8, `height` rows of `width * 3` bytes, top row first.
    public let pixels: [UInt8]
    /// Full-resolution size after EXIF orientation: the image timm would have seen.
    public let originalWidth: Int
    /// Full-resolution height after EXIF orientation.
    public let originalHeight: Int
    /// libjpeg decoded at `scaleEighths`/8 of full size (8 means full size).
    public let scaleEighths: Int
    /// The orientation that was applied to reach `pixels`.
    public let orientation: ExifOrientation

    /// An image from already-upright RGB8 pixels (`pixels.count == width * height * 3`) at full scale.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        // A real check even under -Ounchecked (which drops precondition): preprocess trusts these sizes.
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            fatalError("DecodedImage: \(pixels.count) bytes is not \(width)×\(height) RGB8")
        }
        self.init(
            width: width, height: height, pixels: pixels, originalWidth: width, originalHeight: height,
            scaleEighths: 8, orientation: .up)
    }

    init(
        width: Int, height: Int, pixels: [UInt8], originalWidth: Int, originalHeight: Int,
        scaleEighths: Int, orientation: ExifOrientation
    ) {
        self.width = width
        self.height = height
        self.pixels = pixels
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.scaleEighths = scaleEighths
        self.orientation = orientation
    }
}

/// The DCT scale (in eighths: 1, 2, 4 or 8) at which to decode a `width`×`height` JPEG: the smallest whose
/// shorter side, `ceil(short · n / 8)` as libjpeg computes it, is still ≥ 2 × `targetShorterSide`, so the
/// antialiased resize that follows still sees at least two samples per output pixel. Only powers of two
/// are offered: libjpeg-turbo has SIMD reduced IDCTs for those, and they are the scales Pillow's
/// `draft` uses, against which the tolerances were measured. `nil` or a non-positive target means full size.
public func jpegDecodeScale(width: Int, height: Int, targetShorterSide: Int?) -> Int {
    guard let target = targetShorterSide, target > 0 else { return 8 }
    let shorter = min(width, height)
    for eighths in [1, 2, 4] where (shorter * eighths + 7) / 8 >= 2 * target {
        return eighths
    }
    return 8
}

/// What decoding a JPEG will hold in memory at its peak, known from its header before anything image-sized is
/// allocated: the decoded RGB8 frame at the decode scale (twice when an EXIF orientation needs an upright copy) and
/// libjpeg's own memory (progressive files keep every DCT coefficient of the full-size frame, at most
/// `DecodeLimits.maxDecoderMemory`; baseline files a few rows of blocks).
public struct DecodeFootprint: Sendable, Equatable {
    /// Size of the decoded frame (at the decode scale, before orientation).
    public let width: Int
    public let height: Int
    /// Bytes at the peak of decoding.
    public let bytes: Int

    init(header: cjpeg_header, eighths: Int, orientation: ExifOrientation, limits: DecodeLimits) {
        let storedWidth = Int(header.width)
        let storedHeight = Int(header.height)
        let components = max(1, Int(header.components))
        width = (storedWidth * eighths + 7) / 8
        height = (storedHeight * eighths + 7) / 8
        let frame = width * height * 3
        // Coefficients: 2 bytes a sample, every component at full resolution (no subsampling assumed), in whole blocks.
        let blocks = ((storedWidth + 15) / 16 * 16) * ((storedHeight + 15) / 16 * 16) * components * 2
        let decoder = header.progressive != 0 ? min(blocks, limits.maxDecoderMemory) : (storedWidth + 16) * 16 * components * 4 + (1 << 20)
        bytes = frame * (orientation == .up ? 1 : 2) + decoder
    }
}

/// Decodes a JPEG into upright RGB8 at the smallest DCT scale that keeps the shorter side ≥ 2 ×
/// `targetShorterSide` (full size when `nil`). Safe to call concurrently: every call owns its decoder.
/// `admit` sees the decode's memory footprint once the header is read, before anything image-sized is allocated; an
/// error it throws (the caller's memory budget refusing) ends the decode and is rethrown as it is.
public func decodeJPEG(
    _ bytes: UnsafeRawBufferPointer, limits: DecodeLimits = DecodeLimits(), targetShorterSide: Int?,
    admit: (DecodeFootprint) throws -> Void = { _ in }
) throws -> DecodedImage {
    guard let base = bytes.baseAddress, bytes.count > 0 else { throw ImageDecodeError.empty }
    // Only the SOI marker decides "is it a JPEG": anything after it is libjpeg's to judge (→ corrupt).
    guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw ImageDecodeError.notJPEG }
    guard let decoder = cjpeg_decoder_create() else {
        throw ImageDecodeError.exceedsDecodingLimits(detail: "out of memory creating the decoder")
    }
    defer { cjpeg_decoder_destroy(decoder) }
    func failure(_ status: cjpeg_status) -> ImageDecodeError {
        let detail = String(cString: cjpeg_message(decoder))
        switch status {
        case CJPEG_TRUNCATED: return .truncated(detail: detail)
        case CJPEG_UNSUPPORTED: return .unsupported(detail: detail)
        case CJPEG_OUT_OF_MEMORY, CJPEG_TOO_MANY_SCANS: return .exceedsDecodingLimits(detail: detail)
        default: return .corrupt(detail: detail)
        }
    }

    var header = cjpeg_header()
    let headerStatus = cjpeg_read_header(decoder, base.assumingMemoryBound(to: UInt8.self), bytes.count, &header)
    guard headerStatus == CJPEG_OK else { throw failure(headerStatus) }
    let storedWidth = Int(header.width)
    let storedHeight = Int(header.height)
    // The budget is checked against the frame header, before libjpeg or we allocate anything image-sized.
    guard storedWidth * storedHeight <= limits.maxPixels else {
        throw ImageDecodeError.tooManyPixels(width: storedWidth, height: storedHeight, limit: limits.maxPixels)
    }
    let orientation =
        header.exif.map {
            ExifOrientation(exifTIFF: UnsafeRawBufferPointer(start: $0, count: header.exif_length))
        } ?? .up

    let eighths = jpegDecodeScale(width: storedWidth, height: storedHeight, targetShorterSide: targetShorterSide)
    try admit(DecodeFootprint(header: header, eighths: eighths, orientation: orientation, limits: limits))
    var width: Int32 = 0
    var height: Int32 = 0
    let maxScans = limits.maxScans(pixels: storedWidth * storedHeight)
    let startStatus = cjpeg_start(decoder, Int32(eighths), Int32(maxScans), max(1, limits.maxDecoderMemory), &width, &height)
    guard startStatus == CJPEG_OK else { throw failure(startStatus) }
    let rowBytes = Int(width) * 3
    var readStatus = CJPEG_OK
    let stored = [UInt8](unsafeUninitializedCapacity: rowBytes * Int(height)) { buffer, initialized in
        readStatus = cjpeg_read_rgb(decoder, buffer.baseAddress!, rowBytes)
        // On failure the partly written buffer is discarded below, never read.
        initialized = buffer.count
    }
    guard readStatus == CJPEG_OK else { throw failure(readStatus) }

    let upright = orientation.apply(to: stored, width: Int(width), height: Int(height))
    return DecodedImage(
        width: orientation.swapsAxes ? Int(height) : Int(width),
        height: orientation.swapsAxes ? Int(width) : Int(height),
        pixels: upright,
        originalWidth: orientation.swapsAxes ? storedHeight : storedWidth,
        originalHeight: orientation.swapsAxes ? storedWidth : storedHeight,
        scaleEighths: eighths,
        orientation: orientation)
}

/// `decodeJPEG` over an array of bytes.
public func decodeJPEG(
    _ bytes: [UInt8], limits: DecodeLimits = DecodeLimits(), targetShorterSide: Int?,
    admit: (DecodeFootprint) throws -> Void = { _ in }
) throws -> DecodedImage {
    try bytes.withUnsafeBytes { try decodeJPEG($0, limits: limits, targetShorterSide: targetShorterSide, admit: admit) }
}
