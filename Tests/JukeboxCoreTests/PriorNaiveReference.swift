import Foundation
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// A deliberately plain re-statement of the reference ConditionalAutoregressive2D forward for tests:
/// double precision, weights read by key from a dictionary, and each layout's keys listed explicitly from
/// the reference's reshapes and masks (factored_attention.py) rather than through the engine's cache slots.
enum NaivePrior {
    typealias Matrix = [[Double]]

    /// Keys (positions) query i sees under `kind` over a length-L sequence, plus the count of zero keys.
    static func keySet(_ kind: AttentionKind, i: Int, c: TransformerConfig) -> (keys: [Int], zeros: Int) {
        let bc = c.blockCtx, blocks = c.blocks ?? 1
        switch kind {
        case .dense: return (Array(0...i), 0)
        case .block: return ((0...i).filter { $0 / bc == i / bc }, 0)
        case .transposeBlock: return ((0...i).filter { $0 % bc == i % bc }, 0)
        case .previousBlock:
            let b = i / bc
            return b == 0 ? ([], bc) : (Array(((b - 1) * bc)..<(b * bc)), 0)
        case .summary:
            // keys: a zero, then the last position of blocks 0…blocks−2; visible where that position ≤ i
            return ((0..<(blocks - 1)).map { ($0 + 1) * bc - 1 }.filter { $0 <= i }, 1)
        case .summarySpread:
            let s = c.spread ?? 1
            var keys: [Int] = []
            for b in 0..<(blocks - 1) { for k in 0..<s { keys.append(b * bc + bc - s + k) } }
            return (keys.filter { $0 <= i }, s)
        case .prime: return ((0...i).filter { $0 < c.primeKeys }, 0)
        case .decode: return ([], 0)   // handled separately
        }
    }

    static func get(_ t: [String: Tensor], _ key: String) -> Tensor { t[key]! }

    static func linear(_ x: [Double], _ w: Tensor, _ b: Tensor?) -> [Double] {
        let nIn = w.shape[0], nOut = w.shape[1]
        var y = [Double](repeating: 0, count: nOut)
        if let b { for j in 0..<nOut { y[j] = Double(b[j]) } }
        for i in 0..<nIn where x[i] != 0 { for j in 0..<nOut { y[j] += x[i] * Double(w[i * nOut + j]) } }
        return y
    }

    static func layerNorm(_ x: [Double], _ g: Tensor, _ b: Tensor) -> [Double] {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let v = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let inv = 1 / (v + 1e-5).squareRoot()
        return x.indices.map { (x[$0] - mean) * inv * Double(g[$0]) + Double(b[$0]) }
    }

    /// Hidden states [L][width] after the transformer, for one item, from input embeddings `h0`.
    /// Called with (layer, query, head, key positions, softmax weights) when given.
    typealias Recorder = (Int, Int, Int, [Int], [Double]) -> Void

    static func transformer(_ t: [String: Tensor], prefix: String, c: TransformerConfig, h0: Matrix,
                            encoder: Matrix?, record: Recorder? = nil) -> Matrix {
        var x = h0
        let L = x.count, ns = c.nState, dh = c.headWidth
        let rs = c.resScale ? 1 / Double(c.depth) : 1
        for (d, kind) in c.kinds.enumerated() {
            let p = "\(prefix)._attn_mods.\(d)."
            let hn = x.map { layerNorm($0, get(t, p + "ln_0.weight"), get(t, p + "ln_0.bias")) }
            let proj = hn.map { linear($0, get(t, p + "attn.c_attn.w"), get(t, p + "attn.c_attn.b")) }
            let q = proj.map { Array($0[0..<ns]) }
            var k: Matrix, v: Matrix
            if kind == .decode {
                let kv = encoder!.map { linear($0, get(t, p + "attn.c_enc_kv.w"), get(t, p + "attn.c_enc_kv.b")) }
                k = kv.map { Array($0[0..<ns]) }; v = kv.map { Array($0[ns..<(2 * ns)]) }
            } else {
                k = proj.map { Array($0[ns..<(2 * ns)]) }; v = proj.map { Array($0[(2 * ns)..<(3 * ns)]) }
            }
            var a = Matrix(repeating: [Double](repeating: 0, count: ns), count: L)
            for i in 0..<L {
                let (keys, zeros) = kind == .decode ? (Array(0..<k.count), 0) : keySet(kind, i: i, c: c)
                for h in 0..<c.heads {
                    let r = (h * dh)..<((h + 1) * dh)
                    var logits = keys.map { j in zip(q[i][r], k[j][r]).reduce(0) { $0 + $1.0 * $1.1 } / Double(dh).squareRoot() }
                    logits += [Double](repeating: 0, count: zeros)
                    let m = logits.max() ?? 0
                    let e = logits.map { exp($0 - m) }
                    let s = e.reduce(0, +)
                    record?(d, i, h, keys, e.prefix(keys.count).map { $0 / s })
                    for (n, j) in keys.enumerated() {
                        for col in r { a[i][col] += e[n] / s * v[j][col] }
                    }
                }
            }
            let attnOut = a.map { linear($0, get(t, p + "attn.c_proj.w"), get(t, p + "attn.c_proj.b")) }
            for i in 0..<L {
                let x2 = zip(x[i], attnOut[i]).map { $0 + $1 }
                let h = layerNorm(x2, get(t, p + "ln_1.weight"), get(t, p + "ln_1.bias"))
                let f = linear(h, get(t, p + "mlp.c_fc.w"), get(t, p + "mlp.c_fc.b")).map { $0 / (1 + exp(-1.702 * $0)) }
                let m = linear(f, get(t, p + "mlp.c_proj.w"), get(t, p + "mlp.c_proj.b"))
                x[i] = rs == 1 ? zip(x2, m).map { $0 + $1 } : x[i].indices.map { x[i][$0] + rs * (attnOut[i][$0] + m[$0]) }
            }
        }
        return x
    }

    /// Logits [L][bins] of one item's full teacher-forced forward (the reference's roll by one, start token,
    /// pos_emb, x_cond added before and, unless merged_decoder, after the transformer).
    static func logits(_ t: [String: Tensor], prefix: String, config a: AutoregressiveConfig, tokens: [Int],
                       start: [Double], xCond: Matrix?, encoder: Matrix?, record: Recorder? = nil) -> Matrix {
        let w = a.width, L = tokens.count
        let emb = get(t, prefix + ".x_emb.weight"), pos = get(t, prefix + ".pos_emb.pos_emb")
        var h0 = Matrix()
        for i in 0..<L {
            var row = i == 0 ? start : (0..<w).map { Double(emb[tokens[i - 1] * w + $0]) }
            for j in 0..<w { row[j] += Double(pos[i * w + j]) + (xCond?[xCond!.count == 1 ? 0 : i][j] ?? 0) }
            h0.append(row)
        }
        var x = transformer(t, prefix: prefix + ".transformer", c: a.transformer, h0: h0, encoder: encoder, record: record)
        if a.addCondAfterTransformer, let xCond {
            for i in 0..<L { for j in 0..<w { x[i][j] += xCond[xCond.count == 1 ? 0 : i][j] } }
        }
        let out = get(t, prefix + ".x_out.weight")
        return x.map { row in (0..<a.bins).map { b in (0..<w).reduce(0) { $0 + row[$1] * Double(out[b * w + $1]) } } }
    }
}
