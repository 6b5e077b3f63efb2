import Testing

@testable import Imaging

@Test func decoderIsBuiltAgainstLibjpegTurbo() {
    #expect(jpegLibraryVersion >= 62)
}
