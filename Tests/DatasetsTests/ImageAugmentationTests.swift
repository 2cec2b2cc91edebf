import Datasets
import Foundation
import Tensors
import XCTest

/// The colour-image augmentations through the batch assembler: identity settings give the
/// plain normalised image bit for bit, the same (seed, epoch, index) the same pixels, and
/// MixUp / CutMix targets that sum to one.
final class ImageAugmentationTests: XCTestCase {
    let c = 3, h = 12, w = 10, n = 6
    lazy var data: LabeledImages = {
        // Neighbouring samples differ by 97 levels at every position (CutMix's count needs it).
        let size = c * h * w
        let pixels = (0..<(n * size)).map { p in UInt8(((p / size) * 97 + (p % size) * 37 + (p % size) / 11) % 256) }
        return LabeledImages(channels: c, height: h, width: w, classCount: 3, pixels: pixels,
                             labels: (0..<n).map { UInt8($0 % 3) })
    }()
    let mean: [Float] = [0.3, 0.4, 0.5], std: [Float] = [0.2, 0.25, 0.3]

    func fill(_ config: AugmentationConfig, epoch: Int = 0, seed: UInt64 = 7) -> Batch {
        let assembler = BatchAssembler(data: data, augmentation: config, mean: mean, std: std, seed: seed)
        let batch = assembler.makeBatch(capacity: n)
        assembler.fill(batch, indices: ArraySlice(0..<n), epoch: epoch)
        return batch
    }

    func images(_ b: Batch) -> [Float] { Array(UnsafeBufferPointer(start: b.images.pointer, count: n * c * h * w)) }

    func testIdentitySettingsReproduceThePlainImageExactly() throws {
        let plain = images(fill(AugmentationConfig()))
        var config = AugmentationConfig()
        var crop = RandomResizedCropConfig()
        crop.scale = [1, 1]
        crop.ratio = [Double(w) / Double(h), Double(w) / Double(h)]
        config.image.randomResizedCrop = crop
        config.image.colorJitter = ColorJitterConfig()          // all factors 0: nothing moves
        var erasing = RandomErasingConfig()
        erasing.p = 0
        config.image.randomErasing = erasing
        XCTAssertTrue(config.image.hasPerImageOps)
        XCTAssertEqual(images(fill(config)), plain)
        // A jitter of 1 +- 0 in every factor is the identity too.
        config.image.colorJitter!.brightness = 1e-9
        let nearly = images(fill(config))
        XCTAssertEqual(zip(nearly, plain).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-5)
    }

    func testSameCoordinatesSamePixelsAndEachOperationMovesThem() throws {
        var config = AugmentationConfig()
        config.horizontalFlip = true
        config.image.randomResizedCrop = RandomResizedCropConfig()
        var jitter = ColorJitterConfig()
        jitter.brightness = 0.4; jitter.contrast = 0.4; jitter.saturation = 0.4; jitter.hue = 0.1
        config.image.colorJitter = jitter
        config.image.randomGrayscale = 0.5
        config.image.trivialAugment = true
        config.image.randomErasing = RandomErasingConfig()
        let a = images(fill(config, epoch: 3)), b = images(fill(config, epoch: 3))
        XCTAssertEqual(a, b, "same (seed, epoch, index): same pixels")
        XCTAssertNotEqual(a, images(fill(config, epoch: 4)))
        XCTAssertNotEqual(a, images(fill(config, epoch: 3, seed: 8)))
        XCTAssertTrue(a.allSatisfy(\.isFinite))
        // Switching TrivialAugment off leaves the crop and jitter draws as they were: the
        // images without it differ from a, but equal another run without it.
        config.image.trivialAugment = false
        XCTAssertEqual(images(fill(config, epoch: 3)), images(fill(config, epoch: 3)))
        XCTAssertNotEqual(images(fill(config, epoch: 3)), a)
    }

    func testRandAugmentAndTrivialAugmentAreExclusive() throws {
        let json = #"{"trivial_augment": true, "rand_augment": {"n": 2, "m": 9}}"#
        let config = try JSONDecoder().decode(AugmentationConfig.self, from: Data(json.utf8))
        XCTAssertTrue(config.validate().contains { $0.contains("choose one") })
        let ok = try JSONDecoder().decode(AugmentationConfig.self, from: Data(#"{"rand_augment": {"n": 2, "m": 9}}"#.utf8))
        XCTAssertEqual(ok.validate(), [])
        XCTAssertEqual(images(fill(ok)), images(fill(ok)))
    }

    func testMixUpTargetsSumToOneAndBlendThePartner() throws {
        let plain = images(fill(AugmentationConfig()))
        var config = AugmentationConfig()
        config.image.mixup = 0.4
        let b = fill(config)
        let mix = try XCTUnwrap(b.mix)
        XCTAssertTrue(mix.weight >= 0 && mix.weight <= 1)
        XCTAssertEqual(mix.partnerLabels, (0..<n).map { b.labels[($0 + n - 1) % n] }, "paired with the batch rolled by one")
        // Soft targets: weight on the own label, 1 - weight on the partner's, summing to one.
        for i in 0..<n {
            var target = [Float](repeating: 0, count: 3)
            target[Int(b.labels[i])] += mix.weight
            target[Int(mix.partnerLabels[i])] += 1 - mix.weight
            XCTAssertEqual(target.reduce(0, +), 1, accuracy: 1e-6)
        }
        let size = c * h * w, got = images(b)
        for j in [0, 17, size - 1] {
            let want = mix.weight * plain[size + j] + (1 - mix.weight) * plain[j]
            XCTAssertEqual(got[size + j], want, accuracy: 1e-5)
        }
        XCTAssertNil(fill(AugmentationConfig()).mix)
    }

    func testCutMixWeightIsTheAreaLeft() throws {
        var config = AugmentationConfig()
        config.image.cutmix = 1
        for epoch in 0..<8 {
            let plain = images(fill(AugmentationConfig(), epoch: epoch)), b = fill(config, epoch: epoch)
            let mix = try XCTUnwrap(b.mix)
            let size = c * h * w, got = images(b)
            // Sample 1 took its box from sample 0: count its pixels that changed to sample 0's.
            var pasted = 0
            for j in 0..<(h * w) where got[size + j] != plain[size + j] {
                XCTAssertEqual(got[size + j], plain[j])
                pasted += 1
            }
            XCTAssertEqual(mix.weight, 1 - Float(pasted) / Float(h * w), accuracy: 1e-6, "epoch \(epoch)")
        }
    }
}
