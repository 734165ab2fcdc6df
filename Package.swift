// swift-tools-version:6.1
// VideoStack: the building blocks of a video platform as Swift library modules.
// Layers (a module imports only modules above it in this list):
//   VideoCore → SingleTableStore → TranscodePipeline, HLSPackager (side by side: both speak
//   VideoCore's packet seam) → SearchIndex → VideoPlatform → VideoStackAWS, VideoStackHTTP (side by
//   side: both build on VideoPlatform; VideoStackHTTP's REST API drives the platform's services)
// Each C library has exactly one system target, wrapped by exactly one Swift module.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "VideoStack",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VideoCore", targets: ["VideoCore"]),
        .library(name: "SingleTableStore", targets: ["SingleTableStore"]),
        .library(name: "SearchIndex", targets: ["SearchIndex"]),
        .library(name: "VideoPlatform", targets: ["VideoPlatform"]),
        .executable(name: "store-demo", targets: ["StoreDemo"]),
        .executable(name: "quickstart", targets: ["Quickstart"]),
        .executable(name: "videostack-demo", targets: ["Demo"]),
        .executable(name: "bench-store", targets: ["BenchStore"]),
        .executable(name: "bench-search", targets: ["BenchSearch"]),
        .library(name: "TranscodePipeline", targets: ["TranscodePipeline"]),
        .executable(name: "videostack", targets: ["VideoStackCLI"]),
        .executable(name: "bench-transcode", targets: ["BenchTranscode"]),
        .library(name: "HLSPackager", targets: ["HLSPackager"]),
        .executable(name: "bench-hls", targets: ["BenchHLS"]),
        .library(name: "VideoStackHTTP", targets: ["VideoStackHTTP"]),
        .executable(name: "bench-serve", targets: ["BenchServe"]),
        .library(name: "VideoStackAWS", targets: ["VideoStackAWS"]),
        .executable(name: "bench-platform", targets: ["BenchPlatform"]),
        .library(name: "VideoStackTesting", targets: ["VideoStackTesting"]),
        .executable(name: "VideoServer", targets: ["VideoServer"]),
        .executable(name: "transcode-to-hls", targets: ["TranscodeToHLS"]),
        .executable(name: "search-titles", targets: ["SearchTitles"]),
        .executable(name: "host-app", targets: ["HostApp"]),
        .library(name: "VideoStackLive", targets: ["VideoStackLive"]),
        .executable(name: "bench-live", targets: ["BenchLive"]),
        .executable(name: "bench-scale-out", targets: ["BenchScaleOut"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        // Documentation only: `swift package generate-documentation`.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: Core value types, errors, blob storage. No C library.
        .target(
            name: "VideoCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Item store (DynamoDB semantics) over SQLite.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "SingleTableStore",
            dependencies: ["VideoCore", "CSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Full-text search (pure Swift, no CSQLite). It knows documents only; it uses
        // SingleTableStore for the change-feed types its follower reads (`ItemStore`, `Change`).
        .target(
            name: "SearchIndex",
            dependencies: ["VideoCore", "SingleTableStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Probe, decode once, encode a ladder, thumbnails over FFmpeg's libraries.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev", "libavfilter-dev"])]
        ),
        .target(
            name: "TranscodePipeline",
            dependencies: ["VideoCore", "CFFmpeg", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: HLS packaging: CMAF/fMP4 and MPEG-TS segments, playlists. Pure Swift: packets come
        // through VideoCore's PacketSink and PacketSource seams, from the transcoder or any demuxer.
        .target(
            name: "HLSPackager",
            dependencies: ["VideoCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Services: catalog (the source design's access patterns), accounts, uploads, jobs and
        // the publish saga, share links, rate limiting, signed playback, the composition root.
        // Argon2id password hashing through Debian's libargon2.
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        .target(
            name: "VideoPlatform",
            dependencies: [
                "VideoCore", "SingleTableStore", "SearchIndex", "TranscodePipeline", "HLSPackager", "CArgon2",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: HTTP over Hummingbird: media from a BlobStore with RFC 9110 semantics, and the REST
        // API (JSON, tus uploads, auth, rate limits, OpenAPI) over VideoPlatform's services.
        .target(
            name: "VideoStackHTTP",
            dependencies: [
                "VideoCore", "VideoPlatform", "SearchIndex", "SingleTableStore", "VideoStackLive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Scale-out backends: S3, DynamoDB (with Streams) and SQS over their HTTP APIs, signed
        // with our own SigV4 signer (no AWS SDK), behind the same protocols as the embedded defaults.
        .target(
            name: "VideoStackAWS",
            dependencies: [
                "VideoCore", "SingleTableStore", "VideoPlatform",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: For host applications' integration tests (as HummingbirdTesting is for Hummingbird):
        // a whole platform in a temporary directory, test media made by the library, a typed client.
        .target(
            name: "VideoStackTesting",
            dependencies: [
                "VideoCore", "VideoPlatform", "TranscodePipeline", "VideoStackHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Live streaming: an RTMP ingest server on SwiftNIO, live HLS with DVR through
        // HLSPackager, stream keys in the platform's store, recordings published as VOD.
        .target(
            name: "VideoStackLive",
            dependencies: [
                "VideoCore", "SingleTableStore", "HLSPackager", "TranscodePipeline", "VideoPlatform",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Examples (built by CI so they keep compiling).
        // The example server: the platform, the REST API, media delivery and the web page (`make demo`).
        .executableTarget(
            name: "VideoServer",
            dependencies: [
                "VideoCore", "VideoPlatform", "TranscodePipeline", "VideoStackHTTP", "VideoStackAWS", "VideoStackLive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Examples/VideoServer",
            // The page's files, copied beside the executable (looked up by path, see PageFiles).
            resources: [.copy("Public")],
            swiftSettings: swiftSettings
        ),
        // Transcode a file into an HLS ladder in a few lines.
        .executableTarget(
            name: "TranscodeToHLS",
            dependencies: ["VideoCore", "TranscodePipeline", "HLSPackager", .product(name: "Logging", package: "swift-log")],
            path: "Examples/TranscodeToHLS",
            swiftSettings: swiftSettings
        ),
        // A host application mounting VideoStackHTTP's API and media next to its own routes.
        .executableTarget(
            name: "HostApp",
            dependencies: [
                "VideoPlatform", "VideoStackHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/HostApp",
            swiftSettings: swiftSettings
        ),
        // Search as you type over the titles in a folder (one file name per title).
        .executableTarget(
            name: "SearchTitles",
            dependencies: ["SearchIndex", .product(name: "Logging", package: "swift-log")],
            path: "Examples/SearchTitles",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Demo",
            dependencies: [
                "VideoCore", "SingleTableStore", "VideoPlatform", "TranscodePipeline", "HLSPackager", "SearchIndex",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Demo",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Quickstart",
            dependencies: [
                "VideoCore", "VideoPlatform", "SearchIndex",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/Quickstart",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DocSamples",
            dependencies: [
                "VideoCore", "SingleTableStore", "SearchIndex", "TranscodePipeline", "HLSPackager", "VideoPlatform", "VideoStackHTTP",
                "VideoStackTesting", "VideoStackLive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/DocSamples",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ScaleOutExample",
            dependencies: [
                "VideoCore", "SingleTableStore", "VideoPlatform", "VideoStackAWS",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/ScaleOut",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StoreDemo",
            dependencies: ["VideoCore", "SingleTableStore", "VideoPlatform"],
            path: "Examples/StoreDemo",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "VideoStackCLI",
            dependencies: [
                "VideoCore", "TranscodePipeline", "HLSPackager",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/videostack",
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (run with `make bench`; release builds)
        .executableTarget(
            name: "BenchTranscode",
            dependencies: ["VideoCore", "TranscodePipeline", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/transcode",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BenchHLS",
            dependencies: ["HLSPackager", "TranscodePipeline", "VideoCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/hls",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BenchStore",
            dependencies: ["SingleTableStore", "CSQLite"],
            path: "Benchmarks/store",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BenchServe",
            dependencies: [
                "VideoStackHTTP", "VideoCore", "VideoPlatform", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/serve",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BenchSearch",
            dependencies: ["SearchIndex", "SingleTableStore", "VideoCore", "VideoPlatform", "CSQLite", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/search",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "BenchPlatform",
            dependencies: [
                "VideoPlatform", "HLSPackager", "TranscodePipeline", "SingleTableStore", "VideoCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/platform",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BenchScaleOut",
            dependencies: [
                "VideoStackAWS", "SingleTableStore", "VideoCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/scale-out",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "BenchLive",
            dependencies: [
                "VideoStackLive", "VideoPlatform", "VideoCore", "HLSPackager",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/live",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        // Helpers every test target shares (temporary directories, a seeded generator).
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        // The README's and the DocC articles' Swift samples live in Examples/ (so they compile).
        .testTarget(
            name: "DocumentationTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VideoCoreTests",
            dependencies: ["TestSupport", "VideoCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StoreCrashWriter",
            dependencies: ["SingleTableStore"],
            path: "Tests/StoreCrashWriter",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SingleTableStoreTests",
            dependencies: ["TestSupport", "SingleTableStore", "VideoCore", "StoreCrashWriter", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "UploadCrashWriter",
            dependencies: ["VideoPlatform", "SingleTableStore", "VideoCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/UploadCrashWriter",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PlatformWorker",
            dependencies: [
                "VideoPlatform", "VideoCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/PlatformWorker",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VideoPlatformTests",
            dependencies: [
                "TestSupport", "VideoPlatform", "SingleTableStore", "VideoCore", "UploadCrashWriter", "PlatformWorker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SearchIndexTests",
            dependencies: [
                "TestSupport", "SearchIndex", "SingleTableStore", "VideoPlatform", "VideoCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TranscodePipelineTests",
            dependencies: ["TestSupport", "TranscodePipeline", "VideoCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VideoStackHTTPTests",
            dependencies: [
                "TestSupport", "VideoStackHTTP", "VideoStackLive", "VideoCore", "VideoPlatform", "SearchIndex",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // One node of VideoStackAWSTests' fleet test (worker or API role, on the selected backends).
        .executableTarget(
            name: "FleetNode",
            dependencies: [
                "VideoStackAWS", "VideoPlatform", "VideoCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/FleetNode",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VideoStackAWSTests",
            dependencies: [
                "TestSupport", "VideoStackAWS", "VideoPlatform", "SingleTableStore", "VideoCore", "SearchIndex", "FleetNode",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Vectors"), .copy("Scripts")],
            swiftSettings: swiftSettings
        ),
        // The example server as a child process, driven by real clients (Chromium, tuspy, ffprobe,
        // GStreamer, curl); the Python drivers are in Tests/VideoServerTests/Scripts.
        .testTarget(
            name: "VideoServerTests",
            dependencies: [
                "TestSupport", "VideoStackTesting", "VideoServer",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
        // VideoStackTesting's own tests: the harness, the media maker and the client against an in-process server.
        .testTarget(
            name: "VideoStackTestingTests",
            dependencies: [
                "TestSupport", "VideoStackTesting", "VideoPlatform", "VideoCore", "TranscodePipeline",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HLSPackagerTests",
            dependencies: ["TestSupport", "HLSPackager", "TranscodePipeline", "VideoCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VideoStackLiveTests",
            dependencies: [
                "TestSupport", "VideoStackLive", "VideoPlatform", "HLSPackager", "SingleTableStore", "VideoCore", "VideoStackHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Captures")],
            swiftSettings: swiftSettings
        ),
    ]
)
