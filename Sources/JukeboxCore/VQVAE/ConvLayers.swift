/// torch.nn.Conv1d: weight [Cout, Cin, K], bias [Cout]. Keys: `weight`, `bias`.
package struct Conv1DLayer: @unchecked Sendable {
    package let weight: Tensor      // [Cout, Cin, K]
    package let bias: Tensor        // [Cout]
    /// The weight as K tap matrices [K, Cout, Cin] (stride 1 only), for the shifted-view sgemm path.
    /// Made once: the inference forward assumes `weight` never changes after init. Training updates
    /// weights in place, so its passes (TapConvTraining, ConvTraining) repack from `weight` on every call
    /// and never use these, and a trained model samples through a VQVAE built from copies.
    let taps: Tensor?
    package let cin: Int, cout: Int, k: Int
    package let stride: Int, padding: Int, dilation: Int

    init<P: ParameterSource>(_ p: P, cin: Int, cout: Int, k: Int, stride: Int = 1, padding: Int = 0,
                             dilation: Int = 1) throws {
        weight = try p.parameter("weight", [cout, cin, k], .uniform(fanIn: cin * k))
        bias = try p.parameter("bias", [cout], .uniform(fanIn: cin * k))
        taps = stride == 1 ? Conv.packTaps(weight) : nil
        (self.cin, self.cout, self.k) = (cin, cout, k)
        (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
    }

    package func outputLength(_ t: Int) -> Int { (t + 2 * padding - dilation * (k - 1) - 1) / stride + 1 }

    /// [N, Cin, T] → [N, Cout, T'].
    func callAsFunction(_ x: Tensor) -> Tensor {
        guard let taps else {
            return Conv.conv1d(x, weight, bias, stride: stride, padding: padding, dilation: dilation)
        }
        let (n, t) = (x.shape[0], x.shape[2])
        let tout = max(outputLength(t), 0)
        let out = Tensor(zeros: [n, cout, tout])
        for item in 0..<n {
            Conv.conv1dTaps(x: x.data + item * cin * t, cin: cin, t: t, taps: taps.data, cout: cout, k: k,
                            bias: bias.data, padding: padding, dilation: dilation, out: out.data + item * cout * tout)
        }
        return out
    }

    /// out += α·conv(x) for one item (stride 1, output length equal to the input's).
    func accumulate(_ x: UnsafePointer<Float>, t: Int, into out: UnsafeMutablePointer<Float>, alpha: Float) {
        guard let taps else { return }
        Conv.conv1dTaps(x: x, cin: cin, t: t, taps: taps.data, cout: cout, k: k, bias: bias.data,
                        padding: padding, dilation: dilation, out: out, alpha: alpha, accumulate: true)
    }
}

/// torch.nn.ConvTranspose1d: weight [Cin, Cout, K], bias [Cout]. Keys: `weight`, `bias`.
package struct ConvTranspose1DLayer: @unchecked Sendable {
    package let weight: Tensor      // [Cin, Cout, K]
    package let bias: Tensor        // [Cout]
    /// The weight as K tap matrices [K, Cout, Cin] for the phase-split sgemm path.
    let taps: Tensor
    package let stride: Int, padding: Int

    init<P: ParameterSource>(_ p: P, cin: Int, cout: Int, k: Int, stride: Int, padding: Int) throws {
        // torch computes the default init's fan-in from weight.size(1)·K for transposed convs.
        weight = try p.parameter("weight", [cin, cout, k], .uniform(fanIn: cout * k))
        bias = try p.parameter("bias", [cout], .uniform(fanIn: cout * k))
        taps = Conv.packTransposedTaps(weight)
        (self.stride, self.padding) = (stride, padding)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        Conv.convTranspose1dPhases(x, taps: taps, bias, stride: stride, padding: padding)
    }
}
