import CLinux
import EventLoop
import Glibc
import HTTP
import HTTPServer

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

    enum DiskFailure: Error { case full, failed(CInt) }

    @LoopActor
    public func upload(_ request: Request) async -> Response {
        let name: FileName
        switch Self.fileName(of: request) {
        case let .success(decoded): name = decoded
        case let .failure(refused): return refused.response
        }
        guard uploads.tryAcquire() else {
            var busy = Response.text("too many uploads in progress; retry shortly\n", status: .serviceUnavailable)
            busy.headers.append(("Retry-After", "1"))
            return busy
        }
        defer { uploads.release() }

        let rootFD = rootFD
        uploadCount &+= 1
        let temp = "\(Self.tempPrefix)\(getpid())-\(uploadCount).tmp"
        let fd: CInt
        do {
            fd = try await pool.run { () throws -> CInt in
                let fd = openat(rootFD, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
                guard fd >= 0 else { throw Self.diskFailure(errno) }
                return fd
            }
        } catch {
            return Self.failureResponse(error)
        }
        var keep = false
        defer {
            if !keep {
                let pool = pool
                Task { _ = try? await pool.run { _ = close(fd); _ = unlinkat(rootFD, temp, 0) } }
            }
        }
        do throws(HTTPServerError) {
            while let piece = try await request.body.next() {
                let chunk = Piece(bytes: piece)
                do {
                    try await pool.run { () throws in try Self.writeAll(fd, chunk.bytes) }
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
                guard fsync(fd) == 0 else { throw Self.diskFailure(errno) }
                var existing = stat()
                let replaced = fstatat(rootFD, name.value, &existing, AT_SYMLINK_NOFOLLOW) == 0
                guard renameat(rootFD, temp, rootFD, name.value) == 0 else { throw Self.diskFailure(errno) }
                _ = close(fd)
                _ = fsync(rootFD)  // make the rename itself durable
                return replaced
            }
        } catch {
            return Self.failureResponse(error)
        }
        keep = true
        cache.invalidate(name.value)
        return replaced ? Response(status: .noContent) : .text("created\n", status: .created)
    }

    static func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw diskFailure(errno)
            }
            offset += written
        }
    }

    static func diskFailure(_ error: CInt) -> DiskFailure {
        error == ENOSPC || error == EDQUOT ? .full : .failed(error)
    }

    static func failureResponse(_ error: any Error) -> Response {
        switch error as? DiskFailure {
        case .full: .text("the disk is full\n", status: .insufficientStorage)
        case let .failed(code) where code == EISDIR: .text("a directory has that name\n", status: Status(409, "Conflict"))
        default: .text("cannot store the file\n", status: .internalServerError)
        }
    }

    /// Removes temp files that workers no longer alive left behind (killed mid-upload).
    static func sweepAbandonedUploads(_ rootFD: CInt) {
        let copy = dup(rootFD)
        guard copy >= 0, let directory = fdopendir(copy) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(tempPrefix), name.hasSuffix(".tmp") else { continue }
            let owner = name.dropFirst(tempPrefix.count).prefix { $0 != "-" }
            guard let pid = pid_t(owner), pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = unlinkat(rootFD, name, 0)
        }
    }
}
