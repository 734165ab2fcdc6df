internal import Crypto
internal import Foundation
internal import VideoCore

/// A checksum a client sent with a chunk (tus checksum extension, `Upload-Checksum`).
///
/// The service verifies it over the chunk's bytes before any of them count: a chunk whose
/// digest differs is discarded whole and the offset stays where it was (tus 460).
public struct UploadChecksum: Hashable, Sendable {
    /// The algorithm's tus name, lowercased (`sha256`).
    public var algorithm: String
    /// The expected digest.
    public var digest: [UInt8]

    /// The algorithms the service verifies (tus `Tus-Checksum-Algorithm`).
    public static let supportedAlgorithms = ["sha256"]

    /// A checksum of a supported algorithm with a digest of the right size.
    ///
    /// - Throws: `unsupported` for an algorithm other than those in ``supportedAlgorithms`` (tus
    ///   answers 400), `invalidInput` for a digest of the wrong length.
    public init(algorithm: String, digest: [UInt8]) throws {
        let name = algorithm.lowercased()
        guard Self.supportedAlgorithms.contains(name) else {
            throw VideoStackError(.unsupported, "The checksum algorithm '\(algorithm.prefix(40))' is not supported; use one of \(Self.supportedAlgorithms.joined(separator: ", ")).")
        }
        guard digest.count == SHA256.byteCount else {
            throw VideoStackError(.invalidInput, "A sha256 checksum is \(SHA256.byteCount) bytes; this one is \(digest.count). Send the digest base64-encoded.")
        }
        self.init(checked: name, digest: digest)
    }

    private init(checked algorithm: String, digest: [UInt8]) {
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Parses an `Upload-Checksum` header value: the algorithm, a space, the base64 digest.
    ///
    /// - Throws: `invalidInput` for a malformed value or bad base64, `unsupported` for an
    ///   unknown algorithm.
    public init(header: String) throws {
        guard header.utf8.count <= 256 else {
            throw VideoStackError(.invalidInput, "The Upload-Checksum header is \(header.utf8.count) bytes; a valid one is under 100. Send '<algorithm> <base64 digest>'.")
        }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw VideoStackError(.invalidInput, "The Upload-Checksum header must be '<algorithm> <base64 digest>'; got '\(header.prefix(60))'.")
        }
        guard let digest = Data(base64Encoded: String(parts[1])) else {
            throw VideoStackError(.invalidInput, "The digest in the Upload-Checksum header is not valid base64; encode it with standard, padded base64.")
        }
        try self.init(algorithm: String(parts[0]), digest: Array(digest))
    }

    /// The `sha256` checksum of `bytes` (for clients and tests).
    public static func sha256(of bytes: some Sequence<UInt8>) -> UploadChecksum {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return UploadChecksum(checked: "sha256", digest: Array(hasher.finalize()))
    }

    /// The `Upload-Checksum` header value.
    public var header: String { "\(algorithm) \(Data(digest).base64EncodedString())" }
}

/// Hashes a chunk as it is written, for comparison with an ``UploadChecksum``.
struct ChunkHasher {
    private var sha256 = SHA256()

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256.update(bufferPointer: bytes)
    }

    func matches(_ checksum: UploadChecksum) -> Bool {
        Array(sha256.finalize()) == checksum.digest
    }
}
