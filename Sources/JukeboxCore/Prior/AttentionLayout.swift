/// Which positions one attention layer lets a query see: the reference's `attn_func` (factored_attention.py).
/// Every layout sees, for a query at position p, a prefix of an ordered key list (plus, for some, extra
/// all-zero keys that the reference pads in), which is what lets one attention core serve them all.
public enum AttentionKind: Int, Sendable, CustomStringConvertible {
    /// 0: every earlier position.
    case dense = 0
    /// 1: earlier positions of the same block (row attention).
    case block = 1
    /// 2: earlier positions with the same offset inside their block (column attention).
    case transposeBlock = 2
    /// 3: all of the previous block; the first block sees only zero keys (the reference pads with zeros).
    case previousBlock = 3
    /// 4: the last position of each completed block, after one zero key.
    case summary = 4
    /// 5: the last `spread` positions of each completed block, after `spread` zero keys.
    case summarySpread = 5
    /// 6: every position of the lyrics encoder's output (encoder-decoder attention), no mask.
    case decode = 6
    /// 7: earlier positions inside the lyric prefix (single encoder-decoder), rounded up as `_prime_len`.
    case prime = 7

    public var description: String {
        switch self {
        case .dense: return "dense"
        case .block: return "block"
        case .transposeBlock: return "transpose-block"
        case .previousBlock: return "previous-block"
        case .summary: return "summary"
        case .summarySpread: return "summary-spread"
        case .decode: return "decode"
        case .prime: return "prime"
        }
    }

    /// True where the layout factors the sequence into `blocks` blocks.
    var needsBlocks: Bool {
        switch self {
        case .block, .transposeBlock, .previousBlock, .summary, .summarySpread: return true
        case .dense, .decode, .prime: return false
        }
    }

    /// The layout of layer `d` under the reference's `attn_order` (transformer.py's table).
    public static func forLayer(_ d: Int, attnOrder: Int) throws -> AttentionKind {
        let raw: Int
        switch attnOrder {
        case 0: raw = 0
        case 1: raw = [1, 2][d % 2]
        case 2: raw = [1, 2, 3][d % 3]
        case 3: raw = [1, 4][d % 2]
        case 4: raw = [1, 5][d % 2]
        case 5: raw = [1, 4, 1, 1][d % 4]
        case 6: raw = [1, 2, 3, 6][d % 4]
        case 7: raw = d % 16 == 15 ? 6 : [1, 2, 3][d % 16 % 3]
        case 8: raw = [1, 2, 3, 1, 2, 3, 1, 2, 3, 6][d % 10]
        case 9: raw = [1, 2, 3, 0][d % 4]
        case 10:
            // 9 factored layers, then 7 groups of 9 factored layers and one encoder-decoder layer; cycle 79.
            let i = d % 79
            raw = i < 9 ? [1, 2, 3][i % 3] : ((i - 9) % 10 == 9 ? 6 : [1, 2, 3][(i - 9) % 10 % 3])
        case 11: raw = d % 16 == 15 ? [6, 6, 0][d % 3] : [1, 2, 3][d % 3]
        case 12: raw = d % 16 == 15 ? [7, 7, 0][d % 3] : [1, 2, 3][d % 3]
        default:
            throw JukeboxError("attn_order", "is \(attnOrder); the reference defines orders 0 to 12")
        }
        return AttentionKind(rawValue: raw)!
    }
}
