/// Conversions from the 16-bit storage formats the published checkpoints use to float32.
public enum HalfPrecision {
    /// IEEE 754 binary16 to float32 (subnormals, infinities and NaN included).
    @inline(__always) public static func f16ToF32(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            // Subnormal: value = mant * 2^-24.
            let v = Float(mant) * Float(bitPattern: 0x3380_0000)
            return sign == 0 ? v : -v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
    }

    /// bfloat16 is the upper half of a float32.
    @inline(__always) public static func bf16ToF32(_ h: UInt16) -> Float {
        Float(bitPattern: UInt32(h) << 16)
    }

    /// float32 to binary16, round to nearest even (used to write fp16 test checkpoints).
    public static func f32ToF16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exp = Int((bits >> 23) & 0xFF) - 127 + 15
        var mant = bits & 0x7F_FFFF
        if (bits >> 23) & 0xFF == 0xFF { return sign | 0x7C00 | (mant != 0 ? 0x200 : 0) }
        if exp >= 31 { return sign | 0x7C00 }
        if exp <= 0 {
            if exp < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - exp)
            var half = mant >> shift
            let rem = mant & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rem > halfway || (rem == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var out = UInt32(exp) << 10 | (mant >> 13)
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && out & 1 == 1) { out += 1 }
        return sign | UInt16(truncatingIfNeeded: out)
    }
}
