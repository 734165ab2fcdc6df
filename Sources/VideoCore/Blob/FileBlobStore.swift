public import Foundation
public import Logging
internal import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A ``BlobStore`` over a directory of the local file system: the embedded default.
///
/// - Writes go to a temporary file under `root/.videostack-tmp/`, are fsynced, then renamed over
///   the final path (and the directory fsynced), so a crash never leaves a partial object. The
///   temporary files a crash leaves behind are removed the next time a store opens the
///   directory (see ``FileBlobStoreConfiguration/abandonedWriteAge``).
/// - Keys are checked before use: empty keys, absolute paths, `.` and `..` components, empty
///   components, backslashes, NUL and other control characters, keys over 1,024 bytes, and the
///   reserved temporary directory are rejected with ``VideoStackError/Code/invalidInput``, so a
///   key can never name a file outside `root`.
/// - ETags are derived from size, modification time and inode, as nginx does: they change
///   whenever an object is replaced, without hashing the content.
/// - File I/O runs on the store's own threads, never on Swift's cooperative pool.
/// - A failed system call throws ``VideoStackError/Code/io`` (``VideoStackError/Code/notFound``
///   for a missing file) whose cause is a ``SystemCallError`` naming the call and `errno`.
public final class FileBlobStore: BlobStore {
    /// The directory holding the objects.
    public let root: URL
    private let rootPath: String
    private let pool: BlockingThreadPool<Void>
    private let logger: Logger
    static let temporaryDirectory = ".videostack-tmp"

    /// Opens (creating if needed) a store rooted at `root`, and removes the temporary files of
    /// puts that a crash interrupted.
    /// - Parameters:
    ///   - root: a file URL of the directory that holds the objects; created if missing.
    ///   - configuration: threads and the age of abandoned temporary files.
    ///   - logger: where the store reports what it cleaned up; the task's logger by default.
    /// - Throws: ``VideoStackError/Code/invalidInput`` for a URL that is not a file URL,
    ///   ``VideoStackError/Code/io`` when the directory cannot be created.
    public init(root: URL, configuration: FileBlobStoreConfiguration = .init(), logger: Logger = Logger.current) throws {
        guard root.isFileURL else {
            throw VideoStackError(.invalidInput, "A file blob store needs a file URL for its root; got '\(root.absoluteString.prefix(200))'. Use URL(fileURLWithPath:).")
        }
        self.root = root.standardizedFileURL
        self.rootPath = self.root.path
        self.logger = logger
        try TemporaryFile.makeDirectories(rootPath + "/" + Self.temporaryDirectory, root: "", followingLinks: true)
        self.pool = try BlockingThreadPool(name: "FileBlobStore", threads: max(1, configuration.ioThreads)) { _ in () }
        removeAbandonedWrites(olderThan: configuration.abandonedWriteAge)
        logger.debug("opened blob store", metadata: ["root": "\(rootPath)"])
    }

    deinit {
        pool.shutdown()
    }

    /// Removes temporary files whose last write is older than `age`: puts a crash interrupted.
    private func removeAbandonedWrites(olderThan age: Duration) {
        let directory = rootPath + "/" + Self.temporaryDirectory
        guard let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        let cutoff = Date().timeIntervalSince1970 - age / .seconds(1)
        var removed = 0
        while let entry = readdir(handle) {
            let name = Self.name(of: entry)
            guard name.hasPrefix(TemporaryFile.prefix) else { continue }
            var info = Glibc.stat()
            let path = directory + "/" + name
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
                  Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9 < cutoff else { continue }
            if unlink(path) == 0 {
                removed += 1
            } else {
                logger.warning("cannot remove an abandoned temporary file", metadata: ["path": "\(path)", "error": "\(POSIXErrorCode(errno))"])
            }
        }
        if removed > 0 {
            logger.notice("removed temporary files of interrupted writes", metadata: ["root": "\(rootPath)", "count": "\(removed)"])
        }
    }

    // MARK: Keys

    /// Checks that `key` is a safe relative path; returns it unchanged.
    public static func validate(key: String) throws -> String {
        guard !key.isEmpty else {
            throw VideoStackError(.invalidInput, "A blob key must not be empty.")
        }
        guard key.utf8.count <= 1024 else {
            throw VideoStackError(.invalidInput, "A blob key may be at most 1,024 bytes; this one has \(key.utf8.count).")
        }
        guard !key.hasPrefix("/") else {
            throw VideoStackError(.invalidInput, "The blob key '\(key.prefix(80))' is absolute; keys are relative paths like 'videos/abc/master.m3u8'.")
        }
        if let bad = key.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) {
            throw VideoStackError(.invalidInput, "The blob key '\(key.prefix(80).debugDescription)' contains the character U+\(String(bad.value, radix: 16, uppercase: true)); keys may not contain NUL, control characters or backslashes.")
        }
        let components = key.split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            if component.isEmpty || component == "." || component == ".." {
                throw VideoStackError(.invalidInput, "The blob key '\(key.prefix(80))' has an empty, '.' or '..' path component; such keys could name files outside the store.")
            }
        }
        if components[0] == temporaryDirectory {
            throw VideoStackError(.invalidInput, "Blob keys may not start with '\(temporaryDirectory)/': that directory is reserved for writes in progress.")
        }
        return key
    }

    private func path(for key: String) throws -> String {
        rootPath + "/" + (try Self.validate(key: key))
    }

    // MARK: BlobStore

    public func put<Chunks: AsyncSequence & Sendable>(_ key: String, chunks: Chunks, contentType: String?) async throws -> BlobMetadata
    where Chunks.Element == [UInt8] {
        let finalPath = try path(for: key)
        let temp = try await pool.run { _ in try TemporaryFile(directory: self.rootPath + "/" + Self.temporaryDirectory) }
        do {
            for try await chunk in chunks {
                try Task.checkCancellation()
                try await pool.run { _ in try temp.write(chunk) }
            }
            return try await pool.run { _ in
                try temp.commit(to: finalPath, root: self.rootPath)
                return try self.stat(key: key, path: finalPath)!
            }
        } catch {
            try? await pool.run { _ in temp.discard() }
            if error is CancellationError {
                throw VideoStackError(.cancelled, "The write of '\(key)' was cancelled; nothing was stored.")
            }
            throw error
        }
    }

    public func get(_ key: String) async throws -> [UInt8] {
        let path = try path(for: key)
        return try await pool.run { _ in
            let file = try OpenFile(path: path, key: key)
            return try file.read(from: 0, count: Int(file.size))
        }
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> [UInt8] {
        let path = try path(for: key)
        return try await pool.run { _ in
            let file = try OpenFile(path: path, key: key)
            let clamped = try Self.clamp(range, size: file.size, key: key)
            return try file.read(from: clamped.lowerBound, count: Int(clamped.count))
        }
    }

    public func read(_ key: String, range: Range<Int64>?, chunkSize: Int) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        let path = try path(for: key)
        let chunkSize = max(4096, chunkSize)
        let (file, clamped) = try await pool.run { _ in
            let file = try OpenFile(path: path, key: key)
            return (file, try range.map { try Self.clamp($0, size: file.size, key: key) } ?? 0..<file.size)
        }
        let pool = self.pool
        // Chunks are read on demand, so a slow consumer never makes the file sit in memory.
        let offset = Mutex(clamped.lowerBound)
        return AsyncThrowingStream(unfolding: {
            let start = offset.withLock { $0 }
            guard start < clamped.upperBound else { return nil }
            let count = Int(min(Int64(chunkSize), clamped.upperBound - start))
            let chunk = try await pool.run { _ in try file.read(from: start, count: count) }
            guard chunk.count == count else {
                throw VideoStackError(.io, "'\(key)' became shorter while it was being read.")
            }
            offset.withLock { $0 = start + Int64(count) }
            return chunk
        })
    }

    public func metadata(_ key: String) async throws -> BlobMetadata? {
        let path = try path(for: key)
        return try await pool.run { _ in try self.stat(key: key, path: path) }
    }

    public func delete(_ key: String) async throws {
        let path = try path(for: key)
        try await pool.run { _ in
            if unlink(path) != 0 && errno != ENOENT {
                throw Self.posixError("Cannot delete '\(key)'", call: "unlink")
            }
            // Remove directories left empty, up to the root; rmdir fails harmlessly on non-empty ones.
            var directory = (path as NSString).deletingLastPathComponent
            while directory.count > self.rootPath.count, rmdir(directory) == 0 {
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
    }

    public func list(prefix: String, after: String?, limit: Int) async throws -> BlobListing {
        guard limit > 0 else {
            throw VideoStackError(.invalidInput, "A listing limit must be positive; got \(limit).")
        }
        guard !prefix.contains("\0") else {
            throw VideoStackError(.invalidInput, "A listing prefix may not contain NUL.")
        }
        return try await pool.run { _ in
            // Start from the deepest directory the prefix names, so listing one video's
            // segments does not walk the whole store.
            let directoryPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
            if !directoryPart.isEmpty { _ = try Self.validate(key: directoryPart) }
            var keys: [String] = []
            try self.walk(relative: directoryPart, into: &keys)
            keys = keys.filter { $0.hasPrefix(prefix) && (after == nil || Self.utf8Less(after!, $0)) }
            keys.sort(by: Self.utf8Less)
            let page = keys.prefix(limit)
            let objects = try page.compactMap { try self.stat(key: $0, path: self.rootPath + "/" + $0) }
            return BlobListing(objects: objects, nextAfter: keys.count > limit ? page.last : nil)
        }
    }

    // MARK: Helpers

    private static func utf8Less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Adds the keys of the regular files under `relative` (recursively). A directory that does
    /// not exist (or vanishes meanwhile) holds nothing; one that cannot be read fails the listing
    /// rather than leaving its objects out.
    private func walk(relative: String, into keys: inout [String]) throws {
        let directory = relative.isEmpty ? rootPath : rootPath + "/" + relative
        guard let handle = opendir(directory) else {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw Self.posixError("Cannot list '\(relative.isEmpty ? "/" : relative)'", call: "opendir")
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = Self.name(of: entry)
            if name == "." || name == ".." || (relative.isEmpty && name == Self.temporaryDirectory) { continue }
            let key = relative.isEmpty ? name : relative + "/" + name
            var info = Glibc.stat()
            guard lstat(rootPath + "/" + key, &info) == 0 else {
                if errno == ENOENT { continue }  // deleted while listing
                throw Self.posixError("Cannot list '\(key)'", call: "lstat")
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                try walk(relative: key, into: &keys)
            } else if info.st_mode & S_IFMT == S_IFREG {
                keys.append(key)
            }
        }
    }

    private static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
    }

    private func stat(key: String, path: String) throws -> BlobMetadata? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.posixError("Cannot read the metadata of '\(key)'", call: "lstat")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return nil }
        let nanos = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let etag = String(info.st_size, radix: 16) + "-" + String(nanos, radix: 16) + "-" + String(info.st_ino, radix: 16)
        return BlobMetadata(key: key, size: Int64(info.st_size), etag: etag,
                            lastModified: Date(timeIntervalSince1970: Double(nanos) / 1e9), contentType: BlobMetadata.mimeType(forKey: key))
    }

    private static func clamp(_ range: Range<Int64>, size: Int64, key: String) throws -> Range<Int64> {
        guard range.lowerBound >= 0, range.lowerBound < size, !range.isEmpty else {
            throw VideoStackError(.outOfRange, "Bytes \(range.lowerBound)..<\(range.upperBound) lie outside '\(key)', which has \(size) bytes.")
        }
        return range.lowerBound..<min(range.upperBound, size)
    }

    /// The error for a failed system call: `notFound` for ENOENT, `io` otherwise, with a hint
    /// for the failures an operator can fix, and the call and errno as the cause.
    static func posixError(_ what: String, call: String, code: Int32 = errno) -> VideoStackError {
        let errno = POSIXErrorCode(code)
        let hint = switch code {
        case ENOSPC, EDQUOT: " Free disk space (or raise the quota) and retry."
        case EACCES, EPERM: " Check that the store's directory is writable by this process."
        case EROFS: " The file system is mounted read-only."
        case EMFILE, ENFILE: " The process has too many open files; raise its limit (ulimit -n)."
        default: ""
        }
        return VideoStackError(code == ENOENT ? .notFound : .io, "\(what): \(errno.description).\(hint)",
                               cause: SystemCallError(systemCall: call, errno: errno))
    }
}

/// An open file descriptor for reading, closed on deinit.
private final class OpenFile: @unchecked Sendable {
    // @unchecked Sendable: the descriptor is only used with pread, which is safe across threads.
    let fd: Int32
    let size: Int64

    init(path: String, key: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw VideoStackError(.notFound, "There is no object '\(key)'.")
            }
            throw FileBlobStore.posixError("Cannot open '\(key)'", call: "open", code: code)
        }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw VideoStackError(.notFound, "There is no object '\(key)' (the path is not a regular file).")
        }
        size = Int64(info.st_size)
    }

    deinit { close(fd) }

    func read(from offset: Int64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileBlobStore.posixError("Cannot read", call: "pread")
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeLast(count - done)
        return bytes
    }
}

/// A temporary file that becomes an object on `commit` or disappears on `discard`.
private final class TemporaryFile: @unchecked Sendable {
    // @unchecked Sendable: used by one put at a time, whose steps run one after another.
    let fd: Int32
    let path: String

    /// Names of temporary files start with this.
    static let prefix = "put-"

    init(directory: String) throws {
        path = directory + "/" + Self.prefix + UUID().uuidString
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileBlobStore.posixError("Cannot create a temporary file in '\(directory)'", call: "open") }
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileBlobStore.posixError("Cannot write a temporary file", call: "write")
            }
            done += n
        }
    }

    func commit(to finalPath: String, root: String) throws {
        guard fsync(fd) == 0 else { throw FileBlobStore.posixError("Cannot flush a temporary file", call: "fsync") }
        // Readable by the web server or CDN origin that serves the files, as a plain copy would be.
        guard fchmod(fd, 0o644) == 0 else { throw FileBlobStore.posixError("Cannot set the permissions of a temporary file", call: "fchmod") }
        let directory = (finalPath as NSString).deletingLastPathComponent
        try Self.makeDirectories(directory, root: root)
        guard rename(path, finalPath) == 0 else {
            throw FileBlobStore.posixError("Cannot move the new object into place at '\(finalPath)'", call: "rename")
        }
        // Make the rename itself durable: until the directory is flushed, a power loss can undo it.
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw FileBlobStore.posixError("Cannot open the directory '\(directory)' to flush it", call: "open") }
        defer { close(dirFD) }
        guard fsync(dirFD) == 0 else { throw FileBlobStore.posixError("Cannot flush the directory '\(directory)'", call: "fsync") }
    }

    func discard() {
        unlink(path)
    }

    /// Creates `directory` and its parents below `root` (which exists); a file where a directory
    /// is needed is a conflict. Symbolic links are not followed, so an object is never written
    /// through one, except with `followingLinks`, which the store uses for its own root (a
    /// link to another disk, say).
    static func makeDirectories(_ directory: String, root: String, followingLinks: Bool = false) throws {
        guard directory.count > root.count else { return }
        var info = Glibc.stat()
        if fstatat(AT_FDCWD, directory, &info, followingLinks ? 0 : AT_SYMLINK_NOFOLLOW) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw VideoStackError(.conflict, "Cannot store under '\(directory)': an object already exists where a directory is needed.")
            }
            return
        }
        let parent = (directory as NSString).deletingLastPathComponent
        if parent != directory { try makeDirectories(parent, root: root, followingLinks: followingLinks) }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw FileBlobStore.posixError("Cannot create the directory '\(directory)'", call: "mkdir")
        }
    }
}
