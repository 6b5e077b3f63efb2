import CJPEG

/// Why an image could not be turned into a model input; each case is phrased for the client who sent it.
public enum ImageDecodeError: Error, Equatable, Sendable {
    /// The request carried no bytes at all.
    case empty
}

/// The libjpeg API version the decoder was built against.
public var jpegLibraryVersion: Int { Int(cjpeg_lib_version()) }
