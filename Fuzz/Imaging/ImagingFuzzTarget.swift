// libFuzzer entry point over the whole image path: bytes → decode (header, budget, EXIF, DCT scale,
// colour conversion) → resize/crop/normalize. Compiled together with Sources/Imaging by
// Fuzz/fuzz-imaging.sh, so it reaches internal functions too. Any trap, sanitizer report or leak fails.

/// A small model input keeps each run fast; the geometry code is the same for any size.
private let configs: [PreprocessConfig] = [
    try! PreprocessConfig(
        inputHeight: 64, inputWidth: 64, cropPct: 0.95, interpolation: .bicubic,
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
    try! PreprocessConfig(
        inputHeight: 48, inputWidth: 48, cropPct: 1.2, interpolation: .bilinear,
        mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]),
]

/// Four megapixels: large enough for every seed, small enough that a mutated header claiming a huge
/// frame is refused instead of making one run allocate and decode hundreds of megabytes.
private let limits = DecodeLimits(maxPixels: 4_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func imagingFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // The EXIF parser sees the raw input too: it must accept any bytes as a TIFF block.
    let orientation = ExifOrientation(exifTIFF: bytes)
    precondition((1...8).contains(orientation.rawValue))

    let config = configs[size % configs.count]
    // Alternate between the model's scaled decode and a full-size one to cover every IDCT scale.
    let target: Int? = size % 3 == 0 ? nil : (size % 3 == 1 ? config.resizeShorterSide : 9)
    do {
        let image = try decodeJPEG(bytes, limits: limits, targetShorterSide: target)
        precondition(image.pixels.count == image.width * image.height * 3)
        var output = [Float](repeating: .nan, count: config.outputCount)
        output.withUnsafeMutableBufferPointer { preprocess(image, config: config, into: $0) }
        precondition(!output.contains { !$0.isFinite }, "preprocess left a value unwritten")
    } catch let error as ImageDecodeError {
        precondition(!error.message.isEmpty)
    } catch {
        preconditionFailure("decode threw a foreign error: \(error)")
    }
    return 0
}
