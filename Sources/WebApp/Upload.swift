import EventLoop
import HTTP
import HTTPServer
import Posix

/// `PUT /files/{name}`: the body streams into a hidden temp file in the same folder (so the final
/// rename stays on one file system and is atomic), which is fsynced and renamed over the name:
/// readers see the old file or the new one, never a part. 201 for a new file, 204 for a replaced
/// one; 413 past `--max-body` (the parser's limit), 507 when the disk is full, 503 + `Retry-After`
/// past `--max-uploads`. Each write is awaited on the blocking pool before the next read, so the
/// socket is never read faster than the disk takes it. An upload that fails for any reason leaves
/// nothing behind; the temp names carry the worker's pid, so one killed mid-upload is swept by the
/// next worker that boots.
extension FileServer {
    static let tempPrefix = ".upload-"

    /// A body piece handed to a pool thread. The bytes live in the connection's own buffer, which
    /// nothing touches until this write's result is awaited.
    struct Piece: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
    }

    @LoopActor
    public func upload(_ request: Request) async -> Response {
        guard let name = Self.fileName(of: request) else { return Self.invalidFileName }
        guard uploads.tryAcquire() else {
            var busy = Response.text("too many uploads in progress; retry shortly\n", status: .serviceUnavailable)
            busy.headers.append(("Retry-After", "1"))
            return busy
        }
        defer { uploads.release() }

        let folder = folder  // the jobs below, the clean-up task too, keep it open
        uploadCount &+= 1
        let temp = "\(Self.tempPrefix)\(Process.id)-\(uploadCount).tmp"
        let fd: FileDescriptor
        do {
            fd = try await pool.run { () throws -> FileDescriptor in
                try FileSystem.open(temp, in: folder.fd, [.writeOnly, .create, .exclusive, .noFollow], permissions: 0o644)
            }
        } catch {
            return Self.failureResponse(error)
        }
        var keep = false
        defer {
            if !keep {
                let pool = pool
                Task { _ = try? await pool.run { fd.close(); try? FileSystem.remove(temp, in: folder.fd) } }
            }
        }
        do throws(HTTPServerError) {
            while let piece = try await request.body.next() {
                let chunk = Piece(bytes: piece)
                do {
                    try await pool.run { () throws in try fd.writeAll(chunk.bytes) }
                } catch {
                    return Self.failureResponse(error)
                }
            }
        } catch {
            switch error.kind {
            case let .malformed(parseError):
                return .text("\(parseError.reason)\n", status: Status(parseError.code, parseError.status.reasonPhrase))
            case .timedOut:
                // As nginx's client_body_timeout: the client may still read this.
                return .text("request timeout: the body paused longer than the body timeout\n", status: .requestTimeout)
            case .cancelled:
                return .text("the server is shutting down\n", status: .serviceUnavailable)
            case .closed:
                return .text("upload aborted\n", status: .badRequest)  // the client is gone: nobody reads this
            }
        }
        let replaced: Bool
        do {
            replaced = try await pool.run { () throws -> Bool in
                try fd.synchronize()
                let replaced = (try? FileSystem.status(of: name.value, in: folder.fd, followingSymlinks: false)) != nil
                try FileSystem.rename(temp, to: name.value, in: folder.fd)
                fd.close()
                try? folder.fd.synchronize()  // make the rename itself durable
                return replaced
            }
        } catch {
            return Self.failureResponse(error)
        }
        keep = true
        cache.invalidate(name.value)
        return replaced ? Response(status: .noContent) : .text("created\n", status: .created)
    }

    /// 507 when the disk (or the quota) is full, 409 when the name is a directory's, else 500.
    static func failureResponse(_ error: any Error) -> Response {
        switch (error as? SystemError)?.errno {
        case .noSpace?, .diskQuotaExceeded?: .text("the disk is full\n", status: .insufficientStorage)
        case .isDirectory?: .text("a directory has that name\n", status: Status(409, "Conflict"))
        default: .text("cannot store the file\n", status: .internalServerError)
        }
    }

    /// Removes temp files that workers no longer alive left behind (killed mid-upload).
    static func sweepAbandonedUploads(_ rootFD: FileDescriptor) {
        guard let entries = try? Directory.entries(of: rootFD) else { return }
        for name in entries where name.hasPrefix(tempPrefix) && name.hasSuffix(".tmp") {
            let owner = name.dropFirst(tempPrefix.count).prefix { $0 != "-" }
            guard let pid = ProcessID(owner), pid > 0, !Process.isAlive(pid) else { continue }
            try? FileSystem.remove(name, in: rootFD)
        }
    }
}
