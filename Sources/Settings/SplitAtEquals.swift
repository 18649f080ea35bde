extension StringProtocol {
    /// The text before and after the first `=`, found by Unicode scalar: by `Character`, an `=`
    /// followed by a combining mark (`=\u{30D}`) is one grapheme that is not `"="`, so
    /// `--pidfile=\u{30D}x` would lose its value and be taken for an option of that whole name.
    func splitAtFirstEquals() -> (name: String, value: String)? {
        let scalars = unicodeScalars
        guard let equals = scalars.firstIndex(of: "=") else { return nil }
        return (Self.text(scalars[..<equals]), Self.text(scalars[scalars.index(after: equals)...]))
    }

    private static func text(_ scalars: UnicodeScalarView.SubSequence) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
