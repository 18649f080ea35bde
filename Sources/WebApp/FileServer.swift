import EventLoop
import HTTP
import HTTPServer
import Posix

/// Serves the files of one folder: `GET /` lists them, `GET|HEAD /files/{name}` sends one,
/// `PUT /files/{name}` stores one (see `upload(_:)`).
///
/// Nothing outside the folder is ever served. Names are one decoded path segment (`FileName`:
/// no `/`, no leading dot, no NUL), and the file is opened with `openat2(RESOLVE_BENEATH)` under
/// the folder's descriptor, so the kernel itself refuses a symlink that leads outside (403).
/// `open`, `fstat` and `readdir` run on the blocking pool; the bytes go out with `sendfile(2)`.
public final class FileServer: @unchecked Sendable {
    public let root: String
    /// Owns the folder's descriptor, closed once the server and every pool job that captured this
    /// (not the bare descriptor, which a job could then use after the close) are gone.
    let folder: OpenFile
    let pool: BlockingPool
    let uploads: UploadLimit
    /// Numbers this worker's temp files; touched only on the loop (hence `@unchecked Sendable`).
    @LoopActor var uploadCount = 0
    @LoopActor lazy var cache = OpenFileCache()

    /// `cannot open --root /srv/x: open(/srv/x) failed: ENOTDIR (Not a directory)`.
    public struct RootError: Error, CustomStringConvertible {
        public let root: String
        public let error: SystemError
        public var description: String { "cannot open --root \(root): \(error)" }
    }

    /// Opens the folder (in the worker, at boot: a missing folder is a boot failure).
    public init(root: String, pool: BlockingPool, uploads: UploadLimit) throws(RootError) {
        let fd: FileDescriptor
        do {
            fd = try FileSystem.open(root, .directory)
        } catch {
            throw RootError(root: root, error: error)
        }
        self.root = root
        folder = OpenFile(taking: fd)
        self.pool = pool
        self.uploads = uploads
        Self.sweepAbandonedUploads(fd)
    }

    /// What `fstat` said of an opened file.
    struct Opened: Sendable {
        /// Owns `fd`: closed once neither the cache nor a response holds it.
        let owner: OpenFile
        var fd: FileDescriptor { owner.fd }
        let size: Int
        let seconds: Int
        let nanoseconds: Int
    }

    // MARK: One file

    /// The route's `{name}`, decoded and checked; nil when it is refused (`invalidFileName`).
    /// An optional, not a `Result` carrying the 400: dropping that cost ~190 instructions a request.
    @LoopActor
    static func fileName(of request: Request) -> FileName? {
        try? FileName(decoding: request.parameters["name"] ?? "")
    }

    static var invalidFileName: Response { .text("invalid file name\n", status: .badRequest) }

    @LoopActor
    public func file(_ request: Request) async -> Response {
        if let answer = fileWithoutWaiting(request) { return answer }
        guard let name = Self.fileName(of: request) else { return Self.invalidFileName }
        let folder = folder
        let found: Representation?
        do {
            found = try await pool.run { () throws -> Representation? in
                guard let opened = try Self.openRegular(folder.fd, name.value) else { return nil }
                return Representation(file: opened, content: Self.readSmall(opened), name: name.value)
            }
        } catch {
            return Self.openFailureResponse(error)
        }
        // A directory or a device is not a file we serve.
        guard let loaded = found else { return .text("not found\n", status: .notFound) }
        cache.insert(name.value, loaded)
        return Self.response(for: loaded, fields: request.headers)
    }

    /// `file(_:)`'s answer when it needs no trip to the blocking pool: for a file in the cache or
    /// a name refused; nil when the file must be opened first. A route that calls it before
    /// awaiting `file(_:)` makes a cached file cost no async call of its own (~300 instructions).
    @LoopActor
    public func fileWithoutWaiting(_ request: Request) -> Response? {
        if let segment = request.parameters["name"], let entry = cache.recentEntry(spelledBy: segment) {
            return Self.response(for: entry.representation, fields: request.headers)
        }
        guard let name = Self.fileName(of: request) else { return Self.invalidFileName }
        guard let entry = cache.lookup(name.value) else { return nil }
        return Self.response(for: entry.representation, fields: request.headers)
    }

    /// What a response needs to know of a file, worked out once when it is opened: the validators
    /// and the headers of a full response, so a cached file costs no formatting per request.
    /// A class, not a struct: a cache hit then copies one reference out of the cache, where a
    /// struct of six reference-counted fields cost ~800 instructions per request in retains,
    /// releases and outlined copies (callgrind, `scripts/instructions-per-request`).
    final class Representation: Sendable {
        let file: Opened
        /// The whole content, for files up to `OpenFileCache.smallFileLimit` bytes.
        let content: [UInt8]?
        let validators: Validators
        /// `ETag`, `Last-Modified`, `Accept-Ranges`: sent with 200, 206 and 304.
        let validatorHeaders: PreparedHeaders
        let contentType: String
        /// `validatorHeaders` and `Content-Type`: a whole file's 200, made and encoded once, so
        /// that such a response allocates no header list and formats no field of its own.
        let fullHeaders: PreparedHeaders

        init(file: Opened, content: [UInt8]?, name: String) {
            self.file = file
            self.content = content
            validators = Validators(size: file.size, modifiedSeconds: file.seconds, modifiedNanoseconds: file.nanoseconds)
            let validatorFields = [("ETag", validators.entityTag), ("Last-Modified", HTTPDate.format(file.seconds)), ("Accept-Ranges", "bytes")]
            validatorHeaders = PreparedHeaders(validatorFields)
            contentType = ContentType.forFile(named: name)
            fullHeaders = PreparedHeaders(validatorFields + [("Content-Type", contentType)])
        }
    }

    /// The content of a small file, read once when it is opened; nil for larger files (they are
    /// sent with `sendfile`) or when the read comes up short (the file is changing: not cached).
    static func readSmall(_ file: Opened) -> [UInt8]? {
        guard file.size <= OpenFileCache.smallFileLimit, let content = try? file.fd.read(count: file.size, at: 0) else { return nil }
        return content.count == file.size ? content : nil
    }

    /// `name` opened under the root, with what `fstat` says of it; nil when it is not a regular file.
    static func openRegular(_ rootFD: FileDescriptor, _ name: String) throws(SystemError) -> Opened? {
        // O_NONBLOCK: opening a FIFO someone left in the folder must not hang a pool thread (it is
        // then refused as not a regular file); it changes nothing for a regular file.
        let fd = try FileSystem.openBeneath(name, in: rootFD, [.nonBlocking, .noControllingTerminal])
        guard let status = try? fd.status(), status.kind == .regular else {
            fd.close()
            return nil
        }
        return Opened(owner: OpenFile(taking: fd), size: status.size, seconds: status.modifiedSeconds, nanoseconds: status.modifiedNanoseconds)
    }

    /// 404 for a name that is not there, 403 for one the kernel refuses to resolve beneath the root
    /// (a symlink out of it: `EXDEV`, `ELOOP`) or permissions refuse, 500 for anything else.
    static func openFailureResponse(_ error: any Error) -> Response {
        switch (error as? SystemError)?.errno {
        case .noSuchFile?, .notDirectory?: .text("not found\n", status: .notFound)
        case .crossDevice?, .symlinkLoop?, .permissionDenied?, .notPermitted?: .text("forbidden\n", status: .forbidden)
        default: .text("cannot open the file\n", status: .internalServerError)
        }
    }

    /// The response for a cached or freshly opened file. A response that sends from the file holds
    /// its `OpenFile`, so the cache may drop the entry meanwhile.
    static func response(for representation: Representation, fields: HTTPHeaders) -> Response {
        let file = representation.file
        let validators = representation.validators
        let conditions = ConditionalFields(fields)
        if validators.notModified(ifNoneMatch: fields.value(at: conditions.ifNoneMatch),
                                  ifModifiedSince: fields.value(at: conditions.ifModifiedSince)) {
            return Response(status: .notModified, headers: representation.validatorHeaders)
        }
        var range = ByteRange.whole
        if conditions.range != nil && validators.rangeApplies(ifRange: fields.value(at: conditions.ifRange)) {
            range = ByteRange(header: fields.value(at: conditions.range), size: file.size)
        }
        func body(_ offset: Int, _ length: Int) -> Response.Body {
            if let content = representation.content {
                return offset == 0 && length == content.count ? .bytes(content) : .bytes(Array(content[offset..<offset + length]))
            }
            return .file(file.owner, offset: offset, length: length)
        }
        switch range {
        case .whole:
            return Response(status: .ok, headers: representation.fullHeaders, body: body(0, file.size))
        case let .partial(first, last):
            var headers = representation.fullHeaders.fields
            headers.append(("Content-Range", "bytes \(first)-\(last)/\(file.size)"))
            return Response(status: .partialContent, headers: headers, body: body(first, last - first + 1))
        case .unsatisfiable:
            return Response(status: .rangeNotSatisfiable, headers: [("Content-Range", "bytes */\(file.size)")],
                            body: .bytes(Array("range not satisfiable\n".utf8)))
        }
    }

    // MARK: The listing

    struct Entry: Sendable {
        let name: String
        let size: Int
    }

    @LoopActor
    public func listing(_ request: Request) async -> Response {
        let folder = folder
        guard let entries = try? await pool.run({ Self.readEntries(folder.fd) }) else {
            return .text("cannot list the folder\n", status: .internalServerError)
        }
        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Files</title></head><body>\n<h1>Files</h1>\n<ul>\n"
        for entry in entries {
            html += "<li><a href=\"/files/\(Self.percentEncode(entry.name))\">\(Self.escapeHTML(entry.name))</a> (\(entry.size) bytes)</li>\n"
        }
        html += "</ul>\n</body></html>\n"
        return .html(html)
    }

    /// The files `file(_:)` would serve, sorted by name: each entry is resolved the same way (under
    /// `RESOLVE_BENEATH`), so a symlink that leads outside the folder is
    /// neither listed nor allowed to reveal its target's size.
    static func readEntries(_ rootFD: FileDescriptor) -> [Entry]? {
        // Directory reads through its own open of the folder: two listings on two pool threads at
        // once must not share (and split) one directory offset.
        guard let names = try? Directory.names(of: rootFD) else { return nil }
        var entries: [Entry] = []
        for name in names where !name.hasPrefix(".") && (try? FileName(name)) != nil {
            // Its `OpenFile` closes the descriptor as it goes out of scope: closing it here too
            // closed it twice, and the second close could hit another thread's new descriptor of
            // the same number (an accepted connection: cut with no answer, or EBADF at epoll_ctl).
            guard let opened = try? openRegular(rootFD, name) else { continue }
            entries.append(Entry(name: name, size: opened.size))
        }
        return entries.sorted { $0.name < $1.name }
    }

    static func escapeHTML(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// Percent-encodes all but RFC 3986's unreserved characters, so any name is one safe segment.
    static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}
