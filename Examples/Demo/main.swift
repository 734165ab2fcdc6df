// videostack-demo: the whole path of one upload through the embedded defaults, printed as it
// goes. Run with `make demo`.
//
// A short clip is made with the ffmpeg command-line tool (installed by `make deps`), then:
// catalog entry → probe → ladder plan → transcode once into HLS (CMAF segments and playlists
// written through the blob store) → poster and storyboard → the video flips to `ready` →
// the search index follows the store's change feed → a search with a typo finds the video.
import Foundation
import HLSPackager
import Logging
import SearchIndex
import SingleTableStore
import TranscodePipeline
import VideoCore
import VideoPlatform

func step(_ text: String) { print("▸ " + text) }

/// The demo, as a function rather than top-level code: Swift 6.3's optimizer crashes on this
/// much top-level async code in release builds (SILMem2Reg, `@async_Main`).
func runDemo() async throws {
    var logger = Logger(label: "videostack-demo")
    logger.logLevel = .warning
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("videostack-demo-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }

    // MARK: A source clip
    let source = root.appendingPathComponent("upload.mp4")
    let ffmpeg = Process()
    ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    ffmpeg.arguments = ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=8",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=8",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", source.path]
    try ffmpeg.run()
    ffmpeg.waitUntilExit()
    guard ffmpeg.terminationStatus == 0 else { fatalError("ffmpeg could not make the demo clip; run `make deps`.") }
    step("Made an 8-second 720p30 clip with a 440 Hz tone: \(source.lastPathComponent)")

    // MARK: The embedded services
    let store = try await SQLiteItemStore(url: root.appendingPathComponent("videostack.sqlite"), schema: .singleTable, logger: logger)
    let catalog = try Catalog(store: store, logger: logger)
    let blobs = try FileBlobStore(root: root.appendingPathComponent("media"), logger: logger)
    let search = SearchIndex(logger: logger)
    let follower = SearchFeedFollower(index: search, store: store, mapping: CatalogSearchMapping(), logger: logger)
    var cursor = try await follower.rebuild()
    step("Opened the store (SQLite, WAL), the blob store (\(blobs.root.lastPathComponent)/) and a search index that follows the store's change feed")

    try await catalog.register(User(username: "ada", email: "ada@example.com", displayName: "Ada Lovelace"))
    let video = Video(owner: "ada", title: "The Analytical Engine, explained",
                      description: "How Babbage's engine would have computed Bernoulli numbers.", tags: ["history", "computing"])
    try await catalog.create(video)
    step("Registered ada and created video \(video.id) (status \(video.status))")

    // MARK: Probe and plan
    let info = try await MediaProbe.probe(source, logger: logger)
    if let v = info.video, let a = info.audio {
        step(String(format: "Probed: %@, %.1f s, video %@ %dx%d, audio %@ %d Hz × %d", info.format, info.duration / .seconds(1), v.codec, v.width ?? 0, v.height ?? 0,
                    a.codec, a.sampleRate ?? 0, a.channels ?? 0))
    }
    let renditions = try LadderPlanner.plan(for: info)
    step("Planned \(renditions.count) renditions (never upscaling): \(renditions.map(\.name).joined(separator: ", "))")

    try await catalog.transition(video.id, to: .processing, from: .uploading, duration: info.duration)

    // MARK: Transcode once into HLS
    let directory = "videos/\(video.id)"
    let sink = HLSSink(store: blobs, directory: directory, logger: logger)
    let started = ContinuousClock.now
    let result = try await Transcoder(logger: logger).transcode(input: source, renditions: renditions, sink: sink)
    let elapsed = ContinuousClock.now - started
    step("Transcoded and packaged in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
    // The poster and storyboard were picked from the frames the transcode decoded.
    if let thumbnails = result.thumbnails {
        for file in thumbnails.files {
            try await blobs.put("\(directory)/\(file.name)", bytes: file.bytes, contentType: file.contentType)
        }
        step("Picked a poster frame at \(String(format: "%.1f", thumbnails.poster.time / .seconds(1))) s during the transcode and stored it with the storyboard")
    }

    let objects = try await blobs.listAll(prefix: directory + "/")
    let bytes = objects.reduce(0) { $0 + $1.size }
    step("The blob store holds \(objects.count) objects for the video (\(bytes / 1024) KiB): master.m3u8, init segments, .m4s segments, poster")
    if let master = try? await blobs.get("\(directory)/master.m3u8") {
        print(String(decoding: master, as: UTF8.self).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
    }

    // MARK: Ready, and searchable
    try await catalog.transition(video.id, to: .ready, from: .processing, renditions: result.renditions)
    cursor = try await follower.catchUp(after: cursor)
    step("Marked the video ready with \(result.renditions.count) renditions; the search index caught up from the change feed")
    for text in ["analitical engine", "bernou", "babbage"] {
        let results = try search.search(SearchQuery(text))
        let titles = results.hits.map { hit in
            hit.title.matches.isEmpty ? "\(hit.title.text) — \(hit.description.marked(open: "[", close: "]"))" : hit.title.marked(open: "[", close: "]")
        }
        step("Search '\(text)' → \(titles.isEmpty ? "nothing" : titles.joined(separator: "; "))")
    }
    store.close()
    print("Done. Everything lived in \(root.path) and has been removed.")
}

try await runDemo()
