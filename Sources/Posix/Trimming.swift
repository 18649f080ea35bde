extension StringProtocol {
    /// The text without leading and trailing blanks: spaces, tabs, CR and LF (HTTP's OWS, and the
    /// newline at the end of a pidfile). One helper for every module, so they all trim alike.
    public var trimmingBlanks: String {
        let scalars = unicodeScalars
        func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" }
        guard let first = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[first...last])
        return result
    }
}
