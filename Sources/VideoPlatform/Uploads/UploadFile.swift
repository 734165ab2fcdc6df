internal import Foundation
internal import Synchronization
internal import VideoCore
#if canImport(Glibc)
internal import Glibc
#endif

/// The staging file of one upload, open and locked for one writer.
///
/// Two locks, both needed:
/// - a process-wide set of the paths held, which refuses a second writer in this process at
///   once (every service instance in the process shares it);
/// - `flock(LOCK_EX)` on the file, which excludes writers in other processes sharing the
///   directory and which the kernel drops when its holder dies (even by SIGKILL), so a crashed
///   writer never leaves an upload locked.
///
/// The `flock` is tried for up to ``crossProcessWait`` before the writer is refused: a child
/// process this one spawns (`posix_spawn`) holds copies of every descriptor until its `exec`
/// closes them, and with them a just-released lock, for a moment.
///
/// Every method blocks; callers run them on the upload service's ``BlockingThreadPool``.
final class UploadFile: @unchecked Sendable {
    // @unchecked Sendable: one operation (append, terminate, delivery) owns an instance and
    // calls its methods one after another, each on a pool thread; nothing else touches `fd`.
    private(set) var fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    /// Closes the file, which releases the lock. Callers close explicitly when their last store
    /// write is done (in a `defer`): ARC may end an object's life after its last use, which
    /// would drop the lock too early.
    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
        _ = Self.held.withLock { $0.remove(path) }
    }

    /// The paths this process holds locked.
    private static let held = Mutex<Set<String>>([])

    /// How long to wait for another process's `flock` before refusing.
    static let crossProcessWait: Duration = .seconds(2)

    /// Opens and locks the file at `path`.
    ///
    /// - Returns: nil when the file does not exist and `create` is false.
    /// - Throws: ``VideoStackError/Code/locked`` when another writer holds the lock.
    static func openLocked(path: String, create: Bool, id: UploadID) throws -> UploadFile? {
        let locked = VideoStackError(.locked, "Upload \(id) is being written by another request; wait for it to finish, then ask for the upload's offset (HEAD) and resume from there.")
        guard held.withLock({ $0.insert(path).inserted }) else { throw locked }
        var flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW
        if create { flags |= O_CREAT }
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else {
            let code = errno
            _ = held.withLock { $0.remove(path) }
            if code == ENOENT && !create { return nil }
            throw posixError("Cannot open the staging file of upload \(id)", code: code)
        }
        let file = UploadFile(fd: fd, path: path)
        let deadline = ContinuousClock.now + crossProcessWait
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw posixError("Cannot lock the staging file of upload \(id)", code: code) }
            guard ContinuousClock.now < deadline else { throw locked }
            usleep(5_000)
        }
        return file
    }

    /// The file's current size in bytes.
    func size() throws -> Int64 {
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { throw Self.posixError("Cannot read the size of '\(path)'") }
        return Int64(info.st_size)
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.posixError("Cannot write to '\(path)'")
            }
            done += n
        }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int64) throws {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw Self.posixError("Cannot truncate '\(path)' to \(length) bytes")
        }
    }

    /// Makes everything written so far durable: the bytes and the file's size.
    func sync() throws {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw Self.posixError("Cannot flush '\(path)' to disk")
        }
    }

    // MARK: Helpers without an open instance

    /// Makes the directory's entries (a created or removed file) durable.
    static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("Cannot open the upload directory '\(directory)'") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw posixError("Cannot flush the upload directory '\(directory)'") }
    }

    /// The node id kept in `directory/node-id`, made (a random UUID) when there is none yet.
    /// Two processes starting together agree: each writes a private file and links it into place,
    /// and the one whose link fails reads the winner's.
    static func nodeID(in directory: String) throws -> String {
        let path = directory + "/node-id"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let candidate = UUID().uuidString.lowercased()
        let temporary = directory + "/.node-id-\(candidate)"
        do {
            try Data((candidate + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw VideoStackError(.io, "Cannot write the node id under '\(directory)': \(error.localizedDescription). Check the directory's permissions.", cause: ErrorDescription(error))
        }
        defer { unlink(temporary) }
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); Glibc.close(fd) }
        if link(temporary, path) == 0 {
            try syncDirectory(directory)
            return candidate
        }
        guard errno == EEXIST else { throw posixError("Cannot store the node id at '\(path)'") }
        guard let existing = try? String(contentsOfFile: path, encoding: .utf8),
              case let id = existing.trimmingCharacters(in: .whitespacesAndNewlines), !id.isEmpty
        else {
            throw VideoStackError(.corrupt, "The node id file '\(path)' is empty or unreadable; remove it while no server uses the directory.")
        }
        return id
    }

    /// Removes a file; a missing file is fine.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw posixError("Cannot remove '\(path)'") }
    }

    /// Reads up to `count` bytes of an unlocked file (a completed upload being handed over).
    static func read(path: String, at offset: Int64, count: Int) throws -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            return [UInt8](try handle.read(upToCount: count) ?? Data())
        } catch {
            throw VideoStackError(.io, "Cannot read the staging file '\(path)': \(error.localizedDescription).", cause: ErrorDescription(error))
        }
    }

    /// The error for a failed system call: its errno and text as the cause.
    static func posixError(_ what: String, code: Int32 = errno) -> VideoStackError {
        let text = String(cString: strerror(code))
        let kind: VideoStackError.Code = code == ENOENT ? .notFound : .io
        return VideoStackError(kind, "\(what): \(text).", cause: POSIXErrorCode(code, text))
    }
}
