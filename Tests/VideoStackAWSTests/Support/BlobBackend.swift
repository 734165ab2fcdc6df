import Foundation
import Testing
import TestSupport
import VideoCore
import VideoStackAWS

/// The blob stores the conformance suite (linked from VideoCoreTests, where it runs on
/// `FileBlobStore`) runs against in this target.
enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case s3Moto
    case s3Ministack

    var testDescription: String { rawValue }
    var isS3: Bool { true }

    /// A fresh, empty store of this backend (S3 ones against a server started for this test).
    func withStore<T>(_ body: (any BlobStore) async throws -> T) async throws -> T {
        try await (self == .s3Moto ? Emulator.moto : .ministack).run { endpoint in
            let store = try await S3BlobStore(client: Emulator.client(endpoint: endpoint),
                                              configuration: S3BlobStoreConfiguration(bucket: "media-test", addressing: .path, createsBucket: true))
            return try await body(store)
        }
    }
}

