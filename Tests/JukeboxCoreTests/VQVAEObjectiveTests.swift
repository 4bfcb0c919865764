import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The VQ-VAE's loss terms against hand-computed small cases, and their gradients against finite differences.
final class VQVAEObjectiveTests: XCTestCase {
    static func objective(_ changes: [String: Any] = [:], bandwidth: Bandwidth = Bandwidth(l1: 1, l2: 1, spec: 1)) throws -> VQVAEObjective {
        var v: [String: Any] = ["levels": 1, "downs_t": [1], "strides_t": [2], "emb_width": 2, "l_bins": 4, "width": 2, "depth": 1]
        for (k, x) in changes { v[k] = x }
        return try VQVAEObjective(Hyperparameters(v, source: "test"), bandwidth: bandwidth)
    }

    /// A cosine at an exact bin k of an N-point frame whose reflect padding continues it exactly (its phase
    /// is symmetric about both ends when 2k(T − 1)/N is whole): every frame sees the same cosine, so with
    /// the periodic Hann window |X[k]| = A·W/4 (the window's sum is W/2, half of it at +k), and with W = N
    /// the window's two side lobes give |X[k ± 1]| = A·N/8 and nothing else.
    static func cosine(amplitude a: Float, k: Int, n: Int, t: Int) -> [Float] {
        (0..<t).map { a * Float(cos(2 * Double.pi * Double(k * $0) / Double(n))) }
    }

    func testSTFTOfACosineIsTheHandComputedSpectrum() {
        let (n, k, t, a): (Int, Int, Int, Float) = (64, 4, 257, 0.7)
        let x = Self.cosine(amplitude: a, k: k, n: n, t: t)
        for window in [64, 32, 40] {
            let stft = STFTMagnitude(nFFT: n, hop: 16, windowSize: window)
            let mag = x.withUnsafeBufferPointer { stft.forward($0.baseAddress!, t: t).magnitude }
            let frames = stft.frames(t)
            XCTAssertEqual(frames, 17)
            XCTAssertEqual(mag.shape, [33, 17])
            var worst: Float = 0
            for f in 0..<frames {
                worst = max(worst, abs(mag.data[k * frames + f] - a * Float(window) / 4))
                if window == n {
                    for bin in 0..<33 {
                        let expected: Float = bin == k ? a * Float(n) / 4 : abs(bin - k) == 1 ? a * Float(n) / 8 : 0
                        worst = max(worst, abs(mag.data[bin * frames + f] - expected))
                    }
                }
            }
            print("STFT window \(window): largest deviation from the hand-computed magnitudes \(worst)")
            XCTAssertLessThan(worst, 1e-4)
        }
    }

    /// An impulse at sample c shows frame m the padded window's value at n = c − m·hop + N/2 in every bin:
    /// the window of W samples sits (N − W)/2 into the N-sample frame (torch pads it on both sides).
    func testAnImpulseSeesTheWindowCentredInTheFrame() {
        let (n, w, hop, t, c) = (64, 40, 8, 200, 100)
        var x = [Float](repeating: 0, count: t)
        x[c] = 1
        let stft = STFTMagnitude(nFFT: n, hop: hop, windowSize: w)
        let mag = x.withUnsafeBufferPointer { stft.forward($0.baseAddress!, t: t).magnitude }
        let frames = stft.frames(t)
        var worst: Float = 0
        for m in 0..<frames {
            let pos = c - m * hop + n / 2, i = pos - (n - w) / 2
            let expected: Float = i >= 0 && i < w ? Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(w))) : 0
            for bin in [0, 7, n / 2] { worst = max(worst, abs(mag.data[bin * frames + m] - expected)) }
        }
        print("impulse: largest deviation from the centred window \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }

    /// multispectral loss of a cosine against silence: per resolution ‖S‖ = A·N·√(frames·(1/16 + 2/64)),
    /// averaged over resolutions and items, divided by bandwidth.spec.
    func testMultispectralLossOfCosinesAgainstSilence() throws {
        let (t, amplitudes): (Int, [Float]) = (257, [0.5, 0.25])
        let o = try Self.objective(["multispec_loss_n_fft": [64, 32], "multispec_loss_hop_length": [16, 8],
                                    "multispec_loss_window_size": [64, 32]], bandwidth: Bandwidth(l1: 1, l2: 1, spec: 2))
        let loss = o.multispectralLoss
        let silence = [Float](repeating: 0, count: 2 * t)
        let x = amplitudes.flatMap { Self.cosine(amplitude: $0, k: 4, n: 64, t: t) }
        let target = silence.withUnsafeBufferPointer { loss.target($0.baseAddress!, n: 2, t: t) }
        let grad = Tensor(zeros: [2, t])
        let value = x.withUnsafeBufferPointer { loss.add(weight: 1 / o.bandwidth.spec, target: target, prediction: $0.baseAddress!, into: grad.data) }
        var expected = 0.0
        for a in amplitudes {
            for (n, hop) in [(64, 16), (32, 8)] {
                let frames = Double(1 + t / hop)
                expected += Double(a) * Double(n) * (frames * (1.0 / 16 + 2.0 / 64)).squareRoot()
            }
        }
        expected /= 2 * 2 * 2   // resolutions, items, bandwidth
        print("multispectral loss \(value), hand-computed \(expected)")
        XCTAssertEqual(value, expected, accuracy: 1e-5 * expected)
    }

    func testReconstructionLossesByHand() throws {
        let target: [Float] = [0, 0, 0, 0, 1, 1, 1, 1]
        let prediction: [Float] = [1, -2, 3, 0, 1, 1, 1, 5]      // errors 1 −2 3 0 | 0 0 0 4
        let bw = Bandwidth(l1: 0.5, l2: 2, spec: 1)
        let o = try Self.objective(["linf_k": 2, "lmix_l1": 0.5, "lmix_l2": 1.0, "lmix_linf": 0.25], bandwidth: bw)
        func loss(_ name: String) throws -> Double {
            try target.withUnsafeBufferPointer { t in
                try prediction.withUnsafeBufferPointer { p in
                    try ReconstructionLoss.loss(name, target: t.baseAddress!, prediction: p.baseAddress!, n: 2, t: 4, objective: o).value
                }
            }
        }
        let l1: Double = 10.0 / 8 / 0.5          // Σ|e| = 10
        let l2: Double = 30.0 / 8 / 2            // Σe² = 30
        let linf: Double = 29.0 / 4 / 2          // each item's two largest e²: 9 + 4 and 16 + 0
        XCTAssertEqual(try loss("l1"), l1, accuracy: 1e-12)
        XCTAssertEqual(try loss("l2"), l2, accuracy: 1e-12)
        XCTAssertEqual(try loss("linf"), linf, accuracy: 1e-12)
        XCTAssertEqual(try loss("lmix"), 0.5 * l1 + l2 + 0.25 * linf, accuracy: 1e-12)
        XCTAssertThrowsError(try loss("l3"))
    }

    func testReconstructionAndSpectralGradientsAgainstFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 3)
        let (n, t) = (2, 300)
        let target = GradCheck.randomTensor([n, t], &rng, std: 0.5)
        let prediction = GradCheck.randomTensor([n, t], &rng, std: 0.5)
        let o = try Self.objective(["linf_k": 7, "lmix_l1": 0.3, "lmix_l2": 1.0, "lmix_linf": 0.5,
                                    "multispec_loss_n_fft": [128, 64, 32], "multispec_loss_hop_length": [30, 16, 5],
                                    "multispec_loss_window_size": [100, 64, 20]],
                                   bandwidth: Bandwidth(l1: 0.4, l2: 0.25, spec: 3))
        for name in ["l1", "l2", "linf", "lmix"] {
            let g = try ReconstructionLoss.loss(name, target: target.data, prediction: prediction.data, n: n, t: t, objective: o).gradient
            try GradCheck.check([(name, prediction)], gradient: { _ in g }, seed: 4, label: "recons \(name)") {
                try ReconstructionLoss.loss(name, target: target.data, prediction: prediction.data, n: n, t: t, objective: o).value
            }
        }
        let spectral = o.multispectralLoss
        let reference = spectral.target(target.data, n: n, t: t)
        let g = Tensor(zeros: [n, t])
        _ = spectral.add(weight: 1 / o.bandwidth.spec, target: reference, prediction: prediction.data, into: g.data)
        GradCheck.check([("prediction", prediction)], gradient: { _ in g }, seed: 5, label: "multispectral") {
            spectral.add(weight: 1 / o.bandwidth.spec, target: reference, prediction: prediction.data, into: nil)
        }
    }

    /// calculate_bandwidth's statistics of a sine: variance A²/2, mean |x| 2A/π (whole periods).
    func testBandwidthOfASine() throws {
        let (a, t) = (0.4, 44100)
        let x = Tensor(shape: [1, t, 1], values: (0..<t).map { Float(a * sin(2 * Double.pi * 441 * Double($0) / 44100)) })
        let bw = try Bandwidth.measure([x])
        print("bandwidth of a sine: \(bw)")
        XCTAssertEqual(bw.l2, a * a / 2, accuracy: 1e-6)
        XCTAssertEqual(bw.l1, 2 * a / Double.pi, accuracy: 1e-4)
        XCTAssertGreaterThan(bw.spec, 0)
    }

    func testBadObjectiveSettingsAreNamed() {
        XCTAssertThrowsError(try Self.objective(["loss_fn": "l3"])) { XCTAssertTrue("\($0)".contains("loss_fn")) }
        XCTAssertThrowsError(try Self.objective(["multispec_loss_hop_length": [1, 2]])) { XCTAssertTrue("\($0)".contains("multispec")) }
        XCTAssertThrowsError(try Self.objective([:], bandwidth: Bandwidth(l1: 0, l2: 0, spec: 0))) { XCTAssertTrue("\($0)".contains("bandwidth")) }
    }
}
