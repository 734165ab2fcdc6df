/// How an ``S3BlobStore`` addresses its bucket and uploads objects.
public struct S3BlobStoreConfiguration: Sendable {
    /// How the bucket appears in request URLs.
    public enum Addressing: Sendable, Hashable {
        /// `https://endpoint/bucket/key`: works with every endpoint and any bucket name.
        case path
        /// `https://bucket.endpoint/key`: AWS's preferred form; needs a DNS-compatible bucket name.
        case virtualHosted
        /// Virtual-hosted on AWS's own endpoints when the name allows it, path style elsewhere
        /// (local emulators, S3-compatible stores, names with dots over TLS).
        case automatic
    }

    /// The bucket holding the objects.
    public var bucket: String
    /// How requests name the bucket.
    public var addressing: Addressing
    /// Objects of at most this many bytes go up in one PUT; larger ones in a multipart upload.
    public var multipartThreshold: Int
    /// The size of each part of a multipart upload but the last: 5 MiB to 5 GiB (S3's limits).
    public var partSize: Int
    /// Parts uploaded at once, and ranged GETs of `partSize` in flight when a whole object is
    /// read; memory use is about `partSize × (uploadConcurrency + 1)` per put.
    public var uploadConcurrency: Int
    /// Create the bucket when it does not exist (in the client's region) instead of failing.
    public var createsBucket: Bool

    /// A configuration with S3-friendly defaults: 16 MiB single-PUT limit, 8 MiB parts, 4 at a time.
    public init(bucket: String, addressing: Addressing = .automatic, multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20,
                uploadConcurrency: Int = 4, createsBucket: Bool = false) {
        self.bucket = bucket
        self.addressing = addressing
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.uploadConcurrency = uploadConcurrency
        self.createsBucket = createsBucket
    }

    /// S3's smallest part (every part but the last).
    public static let minimumPartSize = 5 << 20
    /// S3's largest part.
    public static let maximumPartSize = 5 << 30
    /// S3's most parts per upload.
    public static let maximumParts = 10_000
}
