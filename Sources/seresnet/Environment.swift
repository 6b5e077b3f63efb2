import ArgumentParser
import Foundation

/// Flag values that fall back to environment variables, then to defaults. A variable that is set but
/// invalid is an error (never silently ignored).
enum Environment {
    static func string(_ flag: String?, _ variable: String, default value: String) -> String {
        string(flag, variable) ?? value
    }

    /// The flag, else the variable if set and not empty, else nil.
    static func string(_ flag: String?, _ variable: String) -> String? {
        if let flag { return flag }
        if let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty { return text }
        return nil
    }

    /// A boolean variable: 1/true/yes/on or 0/false/no/off (any case); unset or empty gives `default`.
    static func bool(_ variable: String, default value: Bool) throws -> Bool {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return value }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ValidationError("\(variable)=\(text) is not a boolean (1/0, true/false, yes/no, on/off)")
        }
    }

    static func int(_ flag: Int?, _ variable: String, default value: Int, range: ClosedRange<Int>, flagName: String) throws -> Int {
        let resolved: Int
        if let flag {
            resolved = flag
        } else if let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty {
            guard let parsed = Int(text), text.allSatisfy({ $0.isNumber }) else {
                throw ValidationError("\(variable)=\(text) is not a non-negative integer")
            }
            resolved = parsed
        } else {
            resolved = value
        }
        guard range.contains(resolved) else {
            throw ValidationError("\(flagName) (or \(variable)) must be in \(range.lowerBound)...\(range.upperBound); got \(resolved)")
        }
        return resolved
    }
}
