import CBLAS

/// Class activation maps (Zhou et al., "Learning Deep Features for Discriminative Localization", CVPR 2016): for a
/// network that ends in global average pooling and one linear layer, class c's map is `CAM_c = Σ_k w_ck · f_k` over
/// the last stage's feature maps `f_k` (`InferenceEngine.features(slot:)`), with the classifier's fp32 weights and no
/// bias. Its mean over the grid plus the bias is the class's logit.
public enum ClassActivationMap {
    /// One map per class in `classes`, each `height × width` row by row.
    public static func maps(_ maps: FeatureMaps, network: SEResNet, classes: [Int]) -> [[Float]] {
        let (features, channels, plane) = (maps.values, maps.channels, maps.height * maps.width)
        precondition(features.count == channels * plane && channels == network.architecture.featureCount)
        let weights = network.classifierWeight
        precondition(weights.count == network.architecture.numClasses * channels, "the classifier's weights were dropped")
        return classes.map { c in
            precondition(c >= 0 && c < network.architecture.numClasses)
            var map = [Float](repeating: 0, count: plane)
            // map = Fᵀ · w_c, F being (channels × plane) row-major.
            features.withUnsafeBufferPointer { f in
                weights.withUnsafeBufferPointer { w in
                    cblas_sgemv(
                        CblasRowMajor, CblasTrans, Int32(channels), Int32(plane), 1, f.baseAddress!, Int32(plane),
                        w.baseAddress! + c * channels, 1, 0, &map, 1)
                }
            }
            return map
        }
    }
}
