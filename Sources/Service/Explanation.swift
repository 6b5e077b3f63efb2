import Foundation
import HTTP
import Imaging
import Inference

/// KServe v1's explain verb answered with class activation maps (`ClassActivationMap`): per image, for its top class or
/// the classes asked for, the map over the last stage's grid (7×7 at 224×224), where that grid lies on the photo, and on
/// request a PNG heat map at the crop's size.
public struct Explanation: Encodable, Sendable {
    /// One class's map.
    public struct Map: Encodable, Sendable {
        public let index: Int
        public let label: String
        /// The class's softmax probability for this image.
        public let score: Double
        /// The map, `grid.height` rows of `grid.width` values: Σ_k w_ck · f_k, in logit units (no bias).
        public let values: [[Float]]
        /// The PNG heat map (jet colours, min–max scaled) at the model input's size, base64; only with `heatmap=png`.
        public let heatmapPNG: String?
        enum CodingKeys: String, CodingKey {
            case index, label, score, values
            case heatmapPNG = "heatmap_png"
        }
    }
    public struct Grid: Encodable, Sendable {
        public let height: Int
        public let width: Int
    }
    /// Where the model's input (the resize-and-centre-crop) lies on the uploaded photo, in its upright pixels: the
    /// rectangle a heat map is drawn over.
    public struct Region: Encodable, Sendable {
        public let x: Double
        public let y: Double
        public let width: Double
        public let height: Double
    }

    public let method = "class_activation_map"
    /// The feature maps weighted: the last stage's output, before global average pooling.
    public let layer = "layer4"
    public let grid: Grid
    public let crop: Region
    public let maps: [Map]

    /// What `:explain` was asked: which classes (nil: each image's top class) and whether to draw PNGs.
    struct Request {
        var classes: [Int]?
        var heatmap = false

        /// From the query: `classes=281,285` (or repeated; at most 10, each from 0 to classes − 1) and
        /// `heatmap=png|none`.
        init(_ query: QueryParameters, classes classCount: Int) throws(ServiceError) {
            let given = query.values(for: "classes")
            if !given.isEmpty {
                let pieces = given.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                var chosen: [Int] = []
                for piece in pieces {
                    guard piece.count <= 9, let index = Int(piece), index >= 0, index < classCount else {
                        throw .invalidExplainParameter(
                            name: "classes", value: String(given.joined(separator: ",").prefix(64)),
                            reason: "must list class indices from 0 to \(classCount - 1), separated by commas")
                    }
                    if !chosen.contains(index) { chosen.append(index) }
                }
                guard chosen.count <= 10 else {
                    throw .invalidExplainParameter(
                        name: "classes", value: String(given.joined(separator: ",").prefix(64)), reason: "may name at most 10 classes")
                }
                self.classes = chosen
            }
            if let value = query["heatmap"] {
                guard value == "png" || value == "none" else {
                    throw .invalidExplainParameter(name: "heatmap", value: String(value.prefix(32)), reason: "must be png or none")
                }
                heatmap = value == "png"
            }
        }
    }

    /// The explanation of one image's inference (which must carry its feature maps).
    init(_ inference: ImageInference, request: Request, service: ClassificationService) {
        let features = inference.features!
        let probabilities = Probabilities.softmax(inference.logits)
        let classes = request.classes ?? [Probabilities.top(1, of: inference.logits)[0].index]
        let maps = ClassActivationMap.maps(features, network: service.model.network, classes: classes)
        let preprocessing = service.preprocessing
        grid = Grid(height: features.height, width: features.width)
        let region = cropRegion(width: inference.image.width, height: inference.image.height, config: preprocessing)
        crop = Region(
            x: ClassificationService.rounded(region.x, 2), y: ClassificationService.rounded(region.y, 2),
            width: ClassificationService.rounded(region.width, 2), height: ClassificationService.rounded(region.height, 2))
        self.maps = zip(classes, maps).map { index, map in
            Map(
                index: index, label: service.labels[index], score: Probabilities.reported(probabilities[index]),
                values: (0..<features.height).map { Array(map[$0 * features.width..<($0 + 1) * features.width]) },
                heatmapPNG: request.heatmap
                    ? Data(
                        HeatMap.png(
                            map, gridHeight: features.height, gridWidth: features.width, height: preprocessing.inputHeight,
                            width: preprocessing.inputWidth)
                    ).base64EncodedString() : nil)
        }
    }
}
