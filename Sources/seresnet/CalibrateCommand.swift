import ArgumentParser
import Foundation
import Imaging
import Inference

/// `seresnet calibrate`: runs the fp32 engine over calibration JPEGs (through the service's own decoding and
/// preprocessing) and writes the input range and u8 threshold of every product (`CalibrationFile`) beside the weights.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure every product's input range over calibration JPEGs and write the calibration file (for int8 inference).",
        discussion: """
            Two fp32 passes over the images: the range of each convolution's and the classifier's input, then (for \
            percentile and entropy) a histogram of 2048 bins. The file records per input the range, the threshold u8's \
            255 stands for and the scale (threshold / 255), with the weights' SHA-256: a file made for other weights is \
            refused. Use a few dozen to a few hundred photos like the ones the service will see.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(
        name: .customLong("images"), parsing: .upToNextOption,
        help: ArgumentHelp("Calibration JPEGs: files, or directories whose *.jpg/*.jpeg files are used (sorted).", valueName: "path"))
    var images: [String] = []

    @Option(help: "minmax (the largest value), percentile (see --percentile) or entropy (least KL divergence, as TensorRT).")
    var method: CalibrationMethod = .minmax

    @Option(help: "With --method percentile: the share of values below the threshold, in % (default 99.99).")
    var percentile: Double = 99.99

    @Option(help: ArgumentHelp("Where to write the file (default: calibration.json in the model directory).", valueName: "file"))
    var out: String?

    @Option(help: "Inference threads (default: CPUs available to the process).")
    var threads: Int?

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give calibration images: --images DIR|FILE…") }
        guard percentile > 0 && percentile <= 100 else { throw ValidationError("--percentile must be in (0, 100]") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let files = try Self.jpegFiles(images)
        guard !files.isEmpty else { throw ValidationError("no *.jpg or *.jpeg files in \(images.joined(separator: " "))") }
        let model: LoadedModel
        do { model = try ModelDirectory(path: modelOptions.model).load() } catch {
            fail("cannot load model from \(modelOptions.model): \(error)")
        }
        let preprocessing: PreprocessConfig
        do { preprocessing = try PreprocessConfig(configJSON: model.config.json) } catch { fail("\(modelOptions.model): \(error)") }
        let engine = InferenceEngine(
            network: model.network, inputHeight: preprocessing.inputHeight, inputWidth: preprocessing.inputWidth, maxBatch: 1,
            threads: threads ?? ProcessorBudget.available(), kernels: .auto, precision: .fp32)
        let ranges = ActivationRanges()
        let passes = method == .minmax ? 1 : 2
        let terminal = isatty(STDERR_FILENO) != 0
        var used = Set<String>()
        for pass in 1...passes {
            engine.observer = pass == 1 ? { ranges.observeRange($0, $1) } : { ranges.observeHistogram($0, $1) }
            for (index, path) in files.enumerated() {
                if terminal {
                    FileHandle.standardError.write(
                        Data("\rcalibrating: pass \(pass) of \(passes), image \(index + 1) of \(files.count)".utf8))
                }
                guard let data = FileManager.default.contents(atPath: path) else {
                    if pass == 1 { Self.warn("cannot read \(path); skipped") }
                    continue
                }
                do {
                    _ = try data.withUnsafeBytes { bytes in
                        try decodeAndPreprocess(bytes, config: preprocessing, into: engine.inputSlot(0))
                    }
                } catch {
                    if pass == 1 { Self.warn("\(path): \((error as? ImageDecodeError)?.message ?? "\(error)"); skipped") }
                    continue
                }
                engine.run(batch: 1)
                used.insert(path)
            }
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        guard !used.isEmpty else { fail("none of the \(files.count) images could be decoded") }
        let file = CalibrationFile(
            model: model.config.name, weightsSHA256: model.weightsSHA256, method: method, percentile: percentile, images: used.count,
            ranges: ranges)
        let destination = out ?? (modelOptions.model as NSString).appendingPathComponent(CalibrationFile.defaultName)
        do { try file.write(to: destination) } catch { fail("cannot write \(destination): \(error)") }
        print(Self.summary(file, path: destination))
    }

    /// The files `paths` name: JPEG files as given, directories' *.jpg/*.jpeg files sorted by name.
    static func jpegFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var directory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &directory) else {
                throw ValidationError("no such file or directory: \(path)")
            }
            if directory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("seresnet calibrate: \(message)\n".utf8))
    }

    /// Per stage (and the classifier): how many inputs, the thresholds chosen and the largest values seen.
    static func summary(_ file: CalibrationFile, path: String) -> String {
        func format(_ x: Float) -> String { String(format: "%.3g", Double(x)) }
        var lines = [
            "wrote \(path): \(file.tensors.count) product inputs, method \(file.method.rawValue)"
                + (file.percentile.map { " (\($0) %)" } ?? "") + ", \(file.images) images, weights \(file.weightsSHA256.prefix(12))…"
        ]
        let groups = Dictionary(grouping: file.tensors) { $0.key.split(separator: ".").first.map(String.init) ?? $0.key }
        for group in groups.keys.sorted() {
            let tensors = groups[group]!.map(\.value)
            let thresholds = tensors.map(\.threshold)
            let maxima = tensors.map(\.max)
            let clipped = zip(thresholds, maxima).filter { $0 < $1 }.count
            lines.append(
                "  \(group): \(tensors.count) inputs, thresholds \(format(thresholds.min()!))–\(format(thresholds.max()!)), largest values "
                    + "\(format(maxima.min()!))–\(format(maxima.max()!)), \(clipped) clipped below their largest value")
            if let low = tensors.map(\.min).min(), low < 0 {
                lines.append("  \(group): a negative input (\(format(low))) was seen; u8 represents it as 0")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension CalibrationMethod: ExpressibleByArgument {}
