extension RequestParser {
    /// How much a client may send before the parser refuses, each limit with the status it earns.
    ///
    /// They bound what the parser keeps per connection (the head is copied into its own buffer, which
    /// never exceeds `maxRequestLineLength + maxHeaderBlockLength` plus a few empty lines) and how
    /// long a client can keep it busy without making progress.
    public struct Limits: Sendable, Equatable {
        /// The longest request line, CRLF included (414).
        public var maxRequestLineLength: Int
        /// The longest header section: every field line with its CRLF, plus the final empty line (431).
        public var maxHeaderBlockLength: Int
        /// The most field lines in a head (431).
        public var maxHeaderCount: Int
        /// The longest body: refused up front for a `Content-Length`, and as soon as a chunk-size line
        /// would exceed it for a chunked body (413). The default is 1 GiB; the server sets its own.
        public var maxBodyLength: Int
        /// The longest chunk-size line (size digits and extensions, CRLF excluded) (400). Extensions
        /// are skipped, never stored: the limit stops a client that streams one endless line.
        public var maxChunkLineLength: Int
        /// The longest trailer section, final CRLF included (431). Trailers are validated and discarded.
        public var maxTrailerBlockLength: Int
        /// How many empty lines (CRLF) may precede a request line, as RFC 9112 §2.2 allows after a body (400).
        public var maxLeadingEmptyLines: Int

        public init(
            maxRequestLineLength: Int = 8 * 1024,
            maxHeaderBlockLength: Int = 32 * 1024,
            maxHeaderCount: Int = 100,
            maxBodyLength: Int = 1 << 30,
            maxChunkLineLength: Int = 4 * 1024,
            maxTrailerBlockLength: Int = 8 * 1024,
            maxLeadingEmptyLines: Int = 8
        ) {
            self.maxRequestLineLength = maxRequestLineLength
            self.maxHeaderBlockLength = maxHeaderBlockLength
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyLength = maxBodyLength
            self.maxChunkLineLength = maxChunkLineLength
            self.maxTrailerBlockLength = maxTrailerBlockLength
            self.maxLeadingEmptyLines = maxLeadingEmptyLines
        }
    }
}
