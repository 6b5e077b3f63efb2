import Foundation
import Logging
import Service

/// Where the class labels come from.
enum LabelFiles {
    static let imageNetFile = "imagenet-1k-labels.txt"

    /// `explicit` if given; for 1000-class models the shipped ImageNet-1k list (working directory's weights/,
    /// then next to the executable); otherwise `class_<i>`.
    static func labels(explicit: String?, classes: Int, logger: Logger) throws -> ClassLabels {
        if let explicit { return try ClassLabels(contentsOfFile: explicit, expectedCount: classes) }
        guard classes == 1000 else { return .generic(count: classes) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [
            "weights/\(imageNetFile)",
            executable.appendingPathComponent("../share/seresnet/\(imageNetFile)").standardized.path,
            // A build tree: .build/<triple>/release/seresnet (or the .build/release link to it) in the repository.
            executable.appendingPathComponent("../../weights/\(imageNetFile)").standardized.path,
            executable.appendingPathComponent("../../../weights/\(imageNetFile)").standardized.path,
        ]
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            return try ClassLabels(contentsOfFile: path, expectedCount: classes)
        }
        logger.warning(
            "ImageNet-1k label list not found; answering class_<i>", metadata: ["searched": .array(candidates.map { .string($0) })])
        return .generic(count: classes)
    }
}
