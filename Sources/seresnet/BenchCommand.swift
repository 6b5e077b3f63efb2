import ArgumentParser
import Foundation
import Inference

/// `seresnet bench`: engine-only latency and throughput.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the inference engine alone (no decoding, no HTTP): latency per batch, images/s, GFLOP/s.")

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var kernelOptions: KernelOptions

    @Option(help: "Images per batch.")
    var batch: Int = 1

    @Option(help: "Timed iterations.")
    var iterations: Int = 20

    @Option(help: "Untimed warm-up iterations.")
    var warmup: Int = 3

    @Option(help: "Engine threads (OpenBLAS and the engine's own loops). Default: CPUs available to the process.")
    var threads: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Read the batch from a raw float32 file of batch×C×H×W values instead of random data.", valueName: "file"))
    var input: String?

    @Option(
        help: ArgumentHelp("Write the logits of the last iteration (batch×classes float32, little-endian) to this file.", valueName: "file")
    )
    var dumpLogits: String?

    @Option(help: "Seed for the random input.")
    var seed: UInt64 = 1

    @Flag(
        help:
            "Measure this machine's fused multiply-add peak (one core, then all engine threads at once) with the kernels' instruction set, and report each profiled part as a fraction of it."
    )
    var peak = false

    @Flag(
        help:
            "Also report where a forward pass spends its time: the stem, each stage's conv1, conv2, conv3, SE, downsample and residual add, the head."
    )
    var profile = false

    @Option(
        help: ArgumentHelp(
            "Also time the engine without this optimization of the pass (repeatable): after the timed iterations, it runs the same input pass by pass with and without it alternately (same weights and workspace), --iterations pairs, and the median of the per-pair ratios is reported (resolves a few percent where separate runs vary by more).",
            valueName: "optimization"))
    var without: [PassOptimization] = []

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let (kernels, precision) = try kernelOptions.resolve()
        // Loaded and planned in a closure, so the loaded network (whose convolution weights the plan repacks) is
        // released before the timed passes: the plan's copies replace it.
        let (loaded, plan): (LoadedModel, NetworkPlan) = {
            let full: LoadedModel
            do { full = try ModelDirectory(path: modelOptions.model).load() } catch { fail("\(error)") }
            let calibration = kernelOptions.calibrationFile(precision: precision, model: full, modelDirectory: modelOptions.model)
            return (consume full).planned(kernels: kernels, precision: precision, calibration: calibration)
        }()
        let loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
        let size = loaded.config.inputSize
        let engine = InferenceEngine(
            plan: plan, inputHeight: size[1], inputWidth: size[2], maxBatch: batch, threads: threads ?? ProcessorBudget.available())
        if let input {
            guard let data = FileManager.default.contents(atPath: input) else { fail("cannot read \(input)") }
            guard data.count == batch * engine.inputSize * 4 else {
                fail(
                    "\(input) has \(data.count) bytes; batch \(batch) of \(size.map(String.init).joined(separator: "×")) float32 needs \(batch * engine.inputSize * 4)"
                )
            }
            data.withUnsafeBytes { raw in
                for slot in 0..<batch {
                    let values = engine.inputSlot(slot)
                    for i in 0..<values.count {
                        values[i] = raw.loadUnaligned(fromByteOffset: 4 * (slot * engine.inputSize + i), as: Float.self)
                    }
                }
            }
        } else {
            var state = seed
            for slot in 0..<batch {
                let values = engine.inputSlot(slot)
                for i in 0..<values.count {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    values[i] = Float(Int64(bitPattern: state >> 11) % 4000) / 1000 - 2
                }
            }
        }
        let stageProfile = profile ? StageProfile() : nil
        let result = EngineBenchmark(engine: engine, batch: batch, iterations: iterations, warmup: warmup, profile: stageProfile)
        let parts = (stageProfile?.parts ?? []).map {
            (name: $0.name, milliseconds: $0.milliseconds / Double(max(1, stageProfile!.passes)))
        }
        let profiledTotal = parts.reduce(0) { $0 + $1.milliseconds }
        // Measured after the timed passes, so it cannot warm or throttle them.
        // The table's own multiply-add (bf16: VDPBF16PS); with OpenBLAS, this CPU's widest FMA.
        let peakTable = engine.plan.table.hasProducts ? engine.plan.table : KernelTable(KernelInstructionSet.best)
        let peaks =
            peak
            ? peakTable.flatMap { $0.hasProducts ? $0 : nil }.map {
                (set: $0, oneCore: $0.peakGigaflops(), all: $0.peakGigaflops(threads: result.threads))
            } : nil
        let comparison =
            without.isEmpty ? nil : EngineComparison(engine, without: Set(without), batch: batch, pairs: iterations, warmup: warmup)
        if let dumpLogits {
            let logits = engine.run(batch: batch)
            try Data(buffer: logits).write(to: URL(fileURLWithPath: dumpLogits))
        }
        if json {
            var object: [String: Any] = [
                "model": loaded.config.name, "batch": batch, "threads": result.threads, "iterations": iterations,
                "median_ms": result.medianMilliseconds, "p90_ms": result.p90Milliseconds, "min_ms": result.minMilliseconds,
                "images_per_second": result.imagesPerSecond, "gflops": result.gigaflops,
                "gflop_per_image": 2 * Double(result.multiplyAccumulatesPerImage) / 1e9,
                "load_ms": loadMilliseconds, "weights_sha256": loaded.weightsSHA256,
            ]
            object["kernels"] = engine.plan.instructionSet?.rawValue ?? "blas"
            object["precision"] = engine.plan.precision.rawValue
            if profile { object["profile_ms"] = Dictionary(uniqueKeysWithValues: parts.map { ($0.name, $0.milliseconds) }) }
            if let comparison {
                object["comparison"] = [
                    "without": without.map(\.rawValue), "pairs": comparison.first.count, "median_ms": comparison.firstMedian,
                    "without_median_ms": comparison.secondMedian, "median_ratio": comparison.medianRatio,
                ]
            }
            if let peaks {
                object["peak_isa"] = peaks.set.name
                object["peak_gflops_one_core"] = peaks.oneCore
                object["peak_gflops"] = peaks.all
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                """
                model \(loaded.config.name)  batch \(batch)  threads \(result.threads)  iterations \(iterations)
                load (validate, fold BatchNorm, SHA-256, plan and pack): \(format(loadMilliseconds)) ms  sha256 \(loaded.weightsSHA256)
                latency per batch: median \(format(result.medianMilliseconds)) ms  p90 \(format(result.p90Milliseconds)) ms  min \(format(result.minMilliseconds)) ms
                throughput: \(format(result.imagesPerSecond)) images/s  \(format(result.gigaflops)) GFLOP/s (\(format(2 * Double(result.multiplyAccumulatesPerImage) / 1e9)) GFLOP per image)
                kernels: \(engine.plan.instructionSet.map { "\($0.rawValue) (the engine's own)" } ?? "OpenBLAS"), precision \(engine.plan.precision.rawValue)
                """)
            if let comparison {
                print(
                    "without \(without.map(\.rawValue).joined(separator: ", ")), pass by pass alternately (\(comparison.first.count) pairs): median \(format(comparison.firstMedian)) ms with, \(format(comparison.secondMedian)) ms without; with / without, median of the pair ratios: \(String(format: "%.3f", comparison.medianRatio))"
                )
            }
            if let peaks {
                print(
                    "multiply-add peak (\(peaks.set.name), measured): \(format(peaks.oneCore)) GFLOP/s on one core, \(format(peaks.all)) on \(result.threads) threads at once; the whole pass reaches \(format(100 * result.gigaflops / peaks.all)) %"
                )
            }
            if profile {
                // GFLOP/s counts a direct convolution's multiply-adds, so Winograd parts can exceed the machine's peak.
                let peakColumn = peaks == nil ? "" : ", and as % of the measured peak"
                print("time per pass by part (mean over the timed iterations); GFLOP/s as direct convolution\(peakColumn):")
                for part in parts {
                    let name = part.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                    let macs = engine.multiplyAccumulatesByPart[part.name] ?? 0
                    let rate = macs > 0 ? format(2 * Double(macs * batch) / (part.milliseconds / 1000) / 1e9).leftPadded(8) : "       -"
                    let rateValue = 2 * Double(macs * batch) / (part.milliseconds / 1000) / 1e9
                    let ofPeak = peaks.map { macs > 0 ? "  " + (format(100 * rateValue / $0.all) + " %").leftPadded(9) : "" } ?? ""
                    print(
                        "  \(name) \(format(part.milliseconds).leftPadded(8)) ms  \(format(100 * part.milliseconds / max(profiledTotal, 1e-9)).leftPadded(6)) %  \(rate) GFLOP/s\(ofPeak)"
                    )
                }
                print(
                    "algorithm and thread split per convolution at batch \(batch), decided at load (Winograd parts count direct multiply-adds, so they can pass 100 % of peak):"
                )
                for layer in engine.schedule(batch: batch) {
                    print("  \(layer.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(layer.algorithm); split: \(layer.split)")
                }
                let early = engine.imageByImageStageNames
                if !early.isEmpty {
                    print(
                        "in a batch of several images, the stem and \(early.joined(separator: ", ")) run image by image (their maps stay in cache), the rest on the whole batch"
                    )
                }
            }
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension PassOptimization: ExpressibleByArgument {}
