public import Foundation
public import SearchIndex
public import TranscodePipeline
public import VideoCore

/// Everything a ``Platform`` needs to know, with defaults that run on one machine.
///
/// Only ``dataDirectory`` has no sensible default; every other field can be left alone for a
/// first run and tuned later.
public struct PlatformConfiguration: Sendable {
    /// What this process does. An API node serves requests and keeps a search replica; a worker
    /// runs jobs (transcodes). The embedded default does both.
    public struct Roles: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Search replica, snapshots, sweeps: what request handling needs.
        public static let api = Roles(rawValue: 1)
        /// Job workers (the publish saga).
        public static let worker = Roles(rawValue: 2)
        public static let all: Roles = [.api, .worker]
    }

    /// Where the embedded defaults keep their files: `videostack.sqlite`, `media/`, `uploads/`,
    /// `search.snapshot`, `keys/`, `scratch/`. Created when missing.
    public var dataDirectory: URL
    public var roles: Roles

    /// The renditions to encode (never upscaled).
    public var ladder: Ladder
    /// One segment length for the transcoder's keyframes and the packager's cuts.
    public var segmentDuration: Duration
    /// Short segments at the start of every published video, as boundaries from its start (those
    /// at or past ``segmentDuration`` are ignored): with the default `[1 s, 2 s]` a video opens
    /// with segments of 1, 1 and 2 seconds, so its growing playlist is playable once about a
    /// second of every rung is encoded rather than a whole segment. Empty: every segment is
    /// ``segmentDuration`` long.
    public var openingSegmentBoundaries: [Duration]

    /// Encoder settings (x264 preset, profile, limits) and the poster and storyboard.
    public var transcode: TranscodeConfiguration

    /// Workers: how many jobs run at once, leases and heartbeats.
    public var workers: JobWorkerConfiguration
    /// How failed jobs are retried before they become dead letters.
    public var retries: RetryPolicy

    /// How views are counted.
    public var views: ViewConfiguration
    /// How often view totals are written into the video items (what search ranks by).
    public var viewRollUpInterval: Duration

    /// Settings of the search index.
    public var search: SearchIndexConfiguration
    /// How often the search index is written to `search.snapshot` (and once at shutdown), so a
    /// restart reads the snapshot and the change feed since instead of the whole table.
    public var searchSnapshotInterval: Duration

    /// How often expired items (view markers, sessions, unfinished uploads) are swept.
    public var sweepInterval: Duration

    /// Sign-up rules, password hashing, token lifetimes, sign-in limits.
    public var accounts: AccountsConfiguration
    /// Resumable uploads: size limit, quotas, expiry.
    public var uploads: UploadConfiguration
    /// Token buckets per client address and per user.
    public var rateLimits: RateLimitConfiguration
    /// Signed playback URLs for unlisted and private videos.
    public var playback: PlaybackSigningConfiguration
    /// Share-link codes.
    public var shareLinks: ShareLinkConfiguration

    public init(
        dataDirectory: URL,
        roles: Roles = .all,
        ladder: Ladder = .standard,
        segmentDuration: Duration = .seconds(4),
        openingSegmentBoundaries: [Duration] = [.seconds(1), .seconds(2)],
        transcode: TranscodeConfiguration = TranscodeConfiguration(),
        workers: JobWorkerConfiguration = JobWorkerConfiguration(),
        retries: RetryPolicy = RetryPolicy(),
        views: ViewConfiguration = ViewConfiguration(),
        viewRollUpInterval: Duration = .seconds(5),
        search: SearchIndexConfiguration = SearchIndexConfiguration(),
        searchSnapshotInterval: Duration = .seconds(300),
        sweepInterval: Duration = .seconds(60),
        accounts: AccountsConfiguration = AccountsConfiguration(),
        uploads: UploadConfiguration = UploadConfiguration(),
        rateLimits: RateLimitConfiguration = RateLimitConfiguration(),
        playback: PlaybackSigningConfiguration = PlaybackSigningConfiguration(),
        shareLinks: ShareLinkConfiguration = ShareLinkConfiguration()
    ) {
        self.dataDirectory = dataDirectory
        self.roles = roles
        self.ladder = ladder
        self.segmentDuration = segmentDuration
        self.openingSegmentBoundaries = openingSegmentBoundaries
        self.transcode = transcode
        self.workers = workers
        self.retries = retries
        self.views = views
        self.viewRollUpInterval = viewRollUpInterval
        self.search = search
        self.searchSnapshotInterval = searchSnapshotInterval
        self.sweepInterval = sweepInterval
        self.accounts = accounts
        self.uploads = uploads
        self.rateLimits = rateLimits
        self.playback = playback
        self.shareLinks = shareLinks
    }

    package var databaseURL: URL { dataDirectory.appendingPathComponent("videostack.sqlite") }
    package var mediaDirectory: URL { dataDirectory.appendingPathComponent("media", isDirectory: true) }
    var uploadsDirectory: URL { dataDirectory.appendingPathComponent("uploads", isDirectory: true) }
    var scratchDirectory: URL { dataDirectory.appendingPathComponent("scratch", isDirectory: true) }
    var keysDirectory: URL { dataDirectory.appendingPathComponent("keys", isDirectory: true) }
    var searchSnapshotURL: URL { dataDirectory.appendingPathComponent("search.snapshot") }
}
