// Benchmark half of Benchmarks/bench-preprocess.py: times this package's JPEG → model-input path on
// in-memory bytes and prints one JSON object per image. Built by the Python script together with
// Sources/Imaging (same -Ounchecked as the package), never part of `swift test`.
//
// usage: bench-preprocess <config.json> <iterations> <output-dir> <image.jpg>...
import Foundation

@main
enum PreprocessBenchmark {
    static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 5, let iterations = Int(arguments[2]), iterations > 0 else {
            FileHandle.standardError.write(Data("usage: bench-preprocess <config.json> <iterations> <output-dir> <image.jpg>...\n".utf8))
            exit(2)
        }
        let config = try PreprocessConfig(configJSON: Data(contentsOf: URL(fileURLWithPath: arguments[1])))
        let outputDirectory = URL(fileURLWithPath: arguments[3])
        var output = [Float](repeating: 0, count: config.outputCount)
        // Full resolution (the service's default) unless BENCH_DCT_SCALING=1 (serve --jpeg-dct-scaling).
        let dctScaling = ProcessInfo.processInfo.environment["BENCH_DCT_SCALING"] == "1"
        for path in arguments[4...] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var total: [Double] = []
            var decode: [Double] = []
            var resize: [Double] = []
            var scale = 8
            // One untimed warm-up, then `iterations` timed runs of decode + preprocess.
            for run in 0...iterations {
                let start = nanoseconds()
                let image = try decodeJPEG(bytes, targetShorterSide: dctScaling ? config.resizeShorterSide : nil)
                let decoded = nanoseconds()
                output.withUnsafeMutableBufferPointer { preprocess(image, config: config, into: $0) }
                let done = nanoseconds()
                scale = image.scaleEighths
                if run > 0 {
                    total.append(Double(done - start) / 1e6)
                    decode.append(Double(decoded - start) / 1e6)
                    resize.append(Double(done - decoded) / 1e6)
                }
            }
            let name = URL(fileURLWithPath: path).lastPathComponent
            try output.withUnsafeBytes { try Data($0).write(to: outputDirectory.appendingPathComponent(name + ".ours.f32")) }
            let line: [String: Any] = [
                "image": name, "median_ms": median(total), "decode_median_ms": median(decode),
                "preprocess_median_ms": median(resize), "scale_eighths": scale, "iterations": iterations,
                "samples_ms": total, "decode_samples_ms": decode, "preprocess_samples_ms": resize,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
