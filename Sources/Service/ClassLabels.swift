import Foundation

/// Human-readable class names, by class index.
public struct ClassLabels: Sendable {
    public let names: [String]

    /// `class_<i>` for every class: used when no label list fits the model.
    public static func generic(count: Int) -> ClassLabels {
        ClassLabels(names: (0..<count).map { "class_\($0)" })
    }

    public init(names: [String]) { self.names = names }

    /// One label per line (trailing empty line ignored); the count must match the model's classes.
    public init(contentsOfFile path: String, expectedCount: Int) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LabelsError.unreadable(path: path)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if lines.last == "" { lines.removeLast() }
        guard lines.count == expectedCount else {
            throw LabelsError.wrongCount(path: path, found: lines.count, expected: expectedCount)
        }
        names = lines
    }

    public subscript(index: Int) -> String { names[index] }
}

/// Why a label file cannot be used.
public enum LabelsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String)
    case wrongCount(path: String, found: Int, expected: Int)

    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read labels file \(path)"
        case .wrongCount(let path, let found, let expected): return "\(path) has \(found) labels but the model has \(expected) classes"
        }
    }
}
