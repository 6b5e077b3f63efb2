import Testing
@testable import Inference

@Test func checkpointErrorsCompare() {
    #expect(CheckpointError.unreadable(path: "a", reason: "b") == .unreadable(path: "a", reason: "b"))
}
