import Foundation
import Testing
import TestSupport
import VideoCore
import VideoStackAWS

/// The blob stores the conformance suite runs against.
enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file
    case s3Moto
    case s3Ministack

    var testDescription: String { rawValue }
    var isS3: Bool { self != .file }

    /// A fresh, empty store of this backend (S3 ones against a server started for this test).
    func withStore<T>(_ body: (any BlobStore) async throws -> T) async throws -> T {
        switch self {
        case .file:
            return try await withTemporaryDirectory(prefix: "blobs") { root in try await body(try FileBlobStore(root: root)) }
        case .s3Moto, .s3Ministack:
            return try await (self == .s3Moto ? Emulator.moto : .ministack).run { endpoint in
                let store = try await S3BlobStore(client: Emulator.client(endpoint: endpoint),
                                                  configuration: S3BlobStoreConfiguration(bucket: "media-test", addressing: .path, createsBucket: true))
                return try await body(store)
            }
        }
    }
}

