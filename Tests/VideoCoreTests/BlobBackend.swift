import Foundation
import Testing
import TestSupport
import VideoCore

/// The blob stores the conformance suite (BlobStoreConformanceTests.swift) runs against in this
/// target; VideoStackAWSTests has its own with the S3 backends.
enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file

    var testDescription: String { rawValue }
    /// S3 has no directories, so a few answers differ (an object below an object's key).
    var isS3: Bool { false }

    /// A fresh, empty store in a temporary directory.
    func withStore<T>(_ body: (any BlobStore) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "blobs") { root in try await body(try FileBlobStore(root: root)) }
    }
}
