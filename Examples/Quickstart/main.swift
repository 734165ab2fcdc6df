// The README's quick start, whole: one platform with the embedded defaults in ./quickstart-data,
// a user, an upload published through the saga, a search that finds it with a typo. Each
// fenced Swift block of the README stands in this file (a test checks it), so they compile and
// compose. Run with `swift run quickstart`.
import Foundation
import Logging
import SearchIndex
import ServiceLifecycle
import VideoCore
import VideoPlatform

/// An 8-second 720p test pattern with a tone, made by the ffmpeg command-line tool.
func makeClip(at url: URL) throws -> [UInt8] {
    let ffmpeg = Process()
    ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    ffmpeg.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=8",
                        "-f", "lavfi", "-i", "sine=frequency=440:duration=8", "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", url.path]
    try ffmpeg.run()
    ffmpeg.waitUntilExit()
    return try [UInt8](Data(contentsOf: url))
}

func quickstart(dataDirectory: URL) async throws {
    let bytes = try makeClip(at: dataDirectory.deletingLastPathComponent().appendingPathComponent("engine.mp4"))

    let logger = Logger(label: "my-video-service")
    let platform = try await Platform(configuration: PlatformConfiguration(dataDirectory: dataDirectory), logger: logger)
    let services = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
    let running = Task { try await services.run() }   // workers, search replica, sweeps

    try await platform.accounts.signUp(username: "ada", email: "ada@example.com",
                                       password: "analytical-engine-1843", displayName: "Ada Lovelace")
    let (upload, videoID) = try await platform.startUpload(owner: "ada", length: Int64(bytes.count), metadata: [
        "filename": "engine.mp4", "title": "The Analytical Engine, explained", "tags": "history, computing",
    ])
    try await platform.uploads.append(upload.id, at: 0, bytes: bytes)   // tus PATCH; resumable
    while try await platform.catalog.video(videoID)?.status == .processing {
        try await Task.sleep(for: .milliseconds(200))                     // transcoding into HLS
    }
    let video = try await platform.catalog.video(videoID)
    print(video?.status ?? "gone", video?.media?.playlist ?? "")          // ready videos/<id>/hls/master.m3u8

    var hits: [SearchHit] = []
    while hits.isEmpty {                                                  // the replica follows the change feed
        hits = try platform.searchVideos(SearchQuery("analitical engi"), viewer: nil).hits
        try await Task.sleep(for: .milliseconds(50))
    }
    print(hits[0].title.marked(open: "[", close: "]"))                   // The [Analytical] [Engine], explained

    do {
        try await platform.accounts.signUp(username: "ada", email: "other@example.com",
                                           password: "difference-engine-1822", displayName: "Ada")
    } catch let error as VideoStackError where error.code == .conflict {
        print(error.message)   // The username 'ada' is taken; choose another.
    }

    await services.triggerGracefulShutdown()
    try await running.value
    platform.close()
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videostack-quickstart-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
try await quickstart(dataDirectory: directory.appendingPathComponent("data"))
