import Dispatch
/// Where the centre crop falls on one axis of the resized image, as torchvision's `CenterCrop` places it.
struct CropPlacement: Equatable {
    /// Resized-image index of crop index 0; negative when the crop is larger and zero padding is added.
    let start: Int
    /// Crop indices that land inside the resized image (the rest is padding).
    let inside: Range<Int>

    /// `crop` samples out of `size`: `int(round((size − crop) / 2))` with Python's round-half-to-even, or,
    /// when the crop is larger, padding of `(crop − size) // 2` before the image.
    init(size: Int, crop: Int) {
        if crop > size {
            start = -((crop - size) / 2)
        } else {
            start = Int((Double(size - crop) / 2.0).rounded(.toNearestOrEven))
        }
        let low = max(0, -start)
        let high = min(crop, size - start)
        inside = low < high ? low..<high : 0..<0
    }
}

/// The size torchvision's `Resize(shorter)` gives a `width`×`height` image: the shorter side becomes
/// `shorter`, the longer `int(shorter · long / short)`.
func resizedSize(width: Int, height: Int, shorter: Int) -> (width: Int, height: Int) {
    if width <= height {
        return (shorter, Int(Double(shorter * height) / Double(width)))
    }
    return (Int(Double(shorter * width) / Double(height)), shorter)
}

/// The part of a `width`×`height` (upright) image that `config`'s resize and centre crop keep, in the image's own pixels:
/// where the model's input — and a class activation map over it — lies on the photo. Larger than the image when the
/// crop pads.
public func cropRegion(width: Int, height: Int, config: PreprocessConfig) -> (x: Double, y: Double, width: Double, height: Double) {
    let resized = resizedSize(width: width, height: height, shorter: config.resizeShorterSide)
    let scaleX = Double(width) / Double(resized.width)
    let scaleY = Double(height) / Double(resized.height)
    let cropX = CropPlacement(size: resized.width, crop: config.inputWidth)
    let cropY = CropPlacement(size: resized.height, crop: config.inputHeight)
    return (
        Double(cropX.start) * scaleX, Double(cropY.start) * scaleY, Double(config.inputWidth) * scaleX, Double(config.inputHeight) * scaleY
    )
}

/// Writes timm's eval transform of `image` — resize (Pillow, two passes, 8-bit between), centre crop,
/// /255, normalize — as CHW float32 into `output` (exactly `config.outputCount` floats, e.g. one slot of
/// the engine's batch). Resize and crop are fused: only resized pixels that survive the crop are computed,
/// each with Pillow's own coefficients, so the result equals resizing everything and cropping after.
/// Pure function of its inputs; safe to call concurrently.
///
/// With `parts` > 1 the output rows are cut into that many bands computed side by side (`concurrentPerform`), each
/// resampling horizontally only the source rows its band reads (a few rows on either side of a cut are resampled
/// twice): the same bytes, in a fraction of the time, for a caller that holds that many cores.
public func preprocess(
    _ image: DecodedImage, config: PreprocessConfig, into output: UnsafeMutableBufferPointer<Float>, parts: Int = 1
) {
    guard output.count == config.outputCount, let out = output.baseAddress else {
        fatalError("preprocess: output holds \(output.count) floats, config needs \(config.outputCount)")
    }
    // The geometry is timm's, computed on the full-resolution (upright) size it would have decoded.
    let resized = resizedSize(width: image.originalWidth, height: image.originalHeight, shorter: config.resizeShorterSide)
    let cropX = CropPlacement(size: resized.width, crop: config.inputWidth)
    let cropY = CropPlacement(size: resized.height, crop: config.inputHeight)
    let plane = config.inputHeight * config.inputWidth

    config.normalizationTable.withUnsafeBufferPointer { table in
        let lut = table.baseAddress!
        // Zero padding (only when crop_pct > 1 makes the crop larger than the resized image).
        if cropX.inside.count != config.inputWidth || cropY.inside.count != config.inputHeight {
            for channel in 0..<3 {
                (out + channel * plane).update(repeating: lut[channel * 256], count: plane)
            }
        }
        guard !cropX.inside.isEmpty, !cropY.inside.isEmpty else { return }

        let horizontal = axisTaps(
            filter: config.interpolation, decoded: image.width, original: image.originalWidth,
            eighths: image.scaleEighths, resized: resized.width,
            outputs: (cropX.start + cropX.inside.lowerBound)..<(cropX.start + cropX.inside.upperBound))
        let outputs = (cropY.start + cropY.inside.lowerBound)..<(cropY.start + cropY.inside.upperBound)
        let columns = cropX.inside.count
        let rowBytes = columns * 3
        let firstColumn = cropX.inside.lowerBound
        /// Output rows `band` (resized indices): their vertical taps, the source rows they read resampled
        /// horizontally, then the vertical pass into the tensor.
        func run(_ band: Range<Int>) {
            let vertical = axisTaps(
                filter: config.interpolation, decoded: image.height, original: image.originalHeight,
                eighths: image.scaleEighths, resized: resized.height, outputs: band)
            let rows = vertical.sourceSpan
            let intermediate = UnsafeMutablePointer<UInt8>.allocate(capacity: max(rows.count * rowBytes, 1))
            defer { intermediate.deallocate() }
            image.pixels.withUnsafeBufferPointer { pixels in
                resampleRowsHorizontally(
                    source: pixels.baseAddress!, sourceRowBytes: image.width * 3, rows: rows,
                    horizontal: horizontal, destination: intermediate)
            }
            resampleRowsVertically(
                source: intermediate, rowBytes: rowBytes, firstSourceRow: rows.lowerBound, vertical: vertical
            ) { resizedRow, row in
                let y = resizedRow - cropY.start
                let red = out + y * config.inputWidth + firstColumn
                let green = red + plane
                let blue = green + plane
                var pixel = row
                for x in 0..<columns {
                    red[x] = lut[Int(pixel[0])]
                    green[x] = lut[256 + Int(pixel[1])]
                    blue[x] = lut[512 + Int(pixel[2])]
                    pixel += 3
                }
            }
        }
        let bands = max(1, min(parts, outputs.count))
        if bands == 1 {
            run(outputs)
        } else {
            DispatchQueue.concurrentPerform(iterations: bands) { band in
                run(
                    outputs.lowerBound + outputs.count * band / bands..<outputs.lowerBound + outputs.count * (band + 1) / bands)
            }
        }
    }
}

/// Taps mapping `decoded` samples onto resized indices `outputs` (of `resized`). The decoded image covers
/// the original's extent at `eighths`/8 scale, so the resize reads the box `0 ..< original · eighths / 8`
/// (libjpeg rounds the decoded size up; the extra fraction of a pixel lies outside the picture).
/// When nothing changes size Pillow skips the pass; identity taps give the same bytes.
private func axisTaps(
    filter: Interpolation, decoded: Int, original: Int, eighths: Int, resized: Int, outputs: Range<Int>
) -> AxisTaps {
    if eighths == 8 && resized == decoded {
        return AxisTaps(identityOver: outputs)
    }
    let extent = eighths == 8 ? Double(decoded) : Double(original * eighths) / 8
    return AxisTaps(filter: filter, inSize: decoded, in0: 0, in1: extent, outSize: resized, outputs: outputs)
}

/// Decodes `bytes` and preprocesses them into `output`; returns the decoded image for its metadata (original
/// size, orientation, scale). At full resolution by default, so the tensor is timm's bit for bit; with
/// `dctScaling`, at the smallest DCT scale that keeps twice the resize target (faster on large photos, close to
/// but not identical with timm: see `jpegDecodeScale`).
@discardableResult
public func decodeAndPreprocess(
    _ bytes: UnsafeRawBufferPointer, config: PreprocessConfig, limits: DecodeLimits = DecodeLimits(), dctScaling: Bool = false,
    into output: UnsafeMutableBufferPointer<Float>
) throws -> DecodedImage {
    let image = try decodeJPEG(bytes, limits: limits, targetShorterSide: dctScaling ? config.resizeShorterSide : nil)
    preprocess(image, config: config, into: output)
    return image
}
