/// SHA-1 (RFC 3174), for the one thing RFC 6455 needs it for: `Sec-WebSocket-Accept`. Written here
/// because the toolchain's libraries offer no digest without Foundation's crypto, and a package
/// dependency is out. Not for security: SHA-1 is broken for that, and the handshake does not need it.
public enum SHA1 {
    /// The 20-byte digest of `message`.
    public static func digest<Bytes: Collection<UInt8>>(_ message: Bytes) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var block = [UInt8]()
        block.reserveCapacity(64)
        var length: UInt64 = 0
        for byte in message {
            block.append(byte)
            length &+= 1
            if block.count == 64 {
                compress(block, into: &state)
                block.removeAll(keepingCapacity: true)
            }
        }
        // Padding: a 1 bit, zeros to 56 mod 64, then the length in bits, big-endian.
        block.append(0x80)
        if block.count > 56 {
            while block.count < 64 { block.append(0) }
            compress(block, into: &state)
            block.removeAll(keepingCapacity: true)
        }
        while block.count < 56 { block.append(0) }
        let bits = length &* 8
        for shift in stride(from: 56, through: 0, by: -8) { block.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        compress(block, into: &state)
        var out = [UInt8]()
        out.reserveCapacity(20)
        for word in [state.0, state.1, state.2, state.3, state.4] {
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return out
    }

    /// One 64-byte block through the 80 rounds (RFC 3174 §6.1, method 1).
    private static func compress(_ block: [UInt8], into state: inout (UInt32, UInt32, UInt32, UInt32, UInt32)) {
        var w = [UInt32](repeating: 0, count: 80)
        for t in 0..<16 {
            w[t] = UInt32(block[t * 4]) << 24 | UInt32(block[t * 4 + 1]) << 16 | UInt32(block[t * 4 + 2]) << 8 | UInt32(block[t * 4 + 3])
        }
        for t in 16..<80 { w[t] = rotate(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1) }
        var (a, b, c, d, e) = state
        for t in 0..<80 {
            let f: UInt32
            let k: UInt32
            switch t {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let temp = rotate(a, 5) &+ f &+ e &+ w[t] &+ k
            e = d
            d = c
            c = rotate(b, 30)
            b = a
            a = temp
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }

    @inline(__always)
    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 { value << count | value >> (32 - count) }
}
