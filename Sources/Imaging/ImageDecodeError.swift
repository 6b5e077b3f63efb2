import CJPEG

/// Why an image could not be turned into a model input; each case is phrased for the client who sent it.
///
/// The service maps these to HTTP: `.empty` → 400, `.notJPEG` → 415, everything else → 422.
public enum ImageDecodeError: Error, Equatable, Sendable {
    /// The request carried no bytes at all.
    case empty
    /// The bytes do not start with a JPEG start-of-image marker (PNG, GIF, text, …).
    case notJPEG
    /// The JPEG data stops before the image does; `detail` is libjpeg's message.
    case truncated(detail: String)
    /// The JPEG data is damaged; `detail` is libjpeg's message.
    case corrupt(detail: String)
    /// A valid JPEG of a kind this decoder cannot read (12-bit, lossless, 2 components, …).
    case unsupported(detail: String)
    /// The frame header declares more pixels than the configured budget; refused before decoding.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// Decoding would take more work or memory than allowed (e.g. a progressive file with hundreds of scans).
    case exceedsDecodingLimits(detail: String)

    /// Client-facing text: what was wrong and what to send instead.
    public var message: String {
        switch self {
        case .empty:
            return "The request body is empty; send the JPEG image bytes."
        case .notJPEG:
            return "The data is not a JPEG image (no JPEG start-of-image marker); send a JPEG file."
        case .truncated(let detail):
            return "The JPEG image is truncated (\(detail)); send the complete file."
        case .corrupt(let detail):
            return "The JPEG image is corrupt (\(detail)); re-encode it and send it again."
        case .unsupported(let detail):
            return "This kind of JPEG is not supported (\(detail)); re-encode it as an 8-bit baseline or progressive JPEG."
        case .tooManyPixels(let width, let height, let limit):
            return "The image is \(width)×\(height) = \(width * height) pixels, more than the limit of \(limit); send a smaller image."
        case .exceedsDecodingLimits(let detail):
            return
                "The JPEG image needs more decoding work or memory than allowed (\(detail)); re-encode it as a baseline JPEG or send it smaller."
        }
    }
}

/// The libjpeg API version the decoder was built against.
public var jpegLibraryVersion: Int { Int(cjpeg_lib_version()) }
