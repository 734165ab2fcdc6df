// The Swift samples of the DocC articles and the guides, each in a function with the values it
// needs as parameters, so they compile with the package (`DocumentationTests` checks that every
// sample stands here or in another example). Running this program does nothing.
import Foundation
import HLSPackager
import Logging
import SearchIndex
import SingleTableStore
import TranscodePipeline
import VideoCore

// MARK: SearchIndex.md

func searchOverview(logger: Logger) throws {
    let index = SearchIndex(logger: logger)
    try index.apply([.upsert(SearchDocument(id: "v1", title: "Café au lait", tags: ["coffee"], views: 120))])
    let page = try index.search(SearchQuery("cafe au"))        // the last word is a prefix
    for hit in page.hits {
        print(hit.title.marked(open: "<em>", close: "</em>"))  // <em>Café</em> <em>au</em> lait
    }
    let more = try index.search(SearchQuery("cafe au", cursor: page.nextCursor))
    _ = more
}

// MARK: SingleTableStore.md

func storeOverview(logger: Logger) async throws {
    let store = try await SQLiteItemStore(url: URL(fileURLWithPath: "videostack.sqlite"), schema: .singleTable, logger: logger)
    try await store.putItem(["PK": "USER#ada", "SK": "USER#ada", "email": "ada@example.com"],
                            condition: .notExists("PK"))
    try await store.updateItem(key: ["PK": "VIDEO#1", "SK": "VIDEO#1"], actions: [.add("views", 1)])
    let page = try await store.query(Query(partitionKey: "USER#ada", sortKey: .beginsWith("#VIDEO#"),
                                           ascending: false, limit: 20))
    _ = page
}

// MARK: HLSPackager.md

func remuxOverview(logger: Logger) async throws {
    let store = try FileBlobStore(root: URL(fileURLWithPath: "/srv/media"))
    let result = try await Remuxer.package(file: URL(fileURLWithPath: "talk.mp4"), store: store, directory: "videos/talk", logger: logger)
    // videos/talk/master.m3u8, videos/talk/video/…, videos/talk/audio/…
    _ = result
}

func remuxFromDemuxer(store: FileBlobStore, logger: Logger) async throws {
    let demuxer = try await Demuxer.open(URL(fileURLWithPath: "talk.mkv"), logger: logger)
    let result = try await Remuxer.package(source: demuxer, store: store, directory: "videos/talk", logger: logger)
    _ = result
}

func packageWhileTranscoding(store: FileBlobStore, id: VideoID, source: URL, ladder: [Rendition], logger: Logger) async throws {
    let sink = HLSSink(store: store, directory: "videos/\(id)", configuration: HLSConfiguration(mode: .event), logger: logger)
    _ = try await Transcoder(logger: logger).transcode(input: source, renditions: ladder, sink: sink)
}

// MARK: TranscodePipeline.md

func transcodeOverview(source: URL, outputDirectory: URL) async throws {
    let logger = Logger(label: "transcode")
    let info = try await MediaProbe.probe(source, logger: logger)
    let renditions = try LadderPlanner.plan(for: info)                 // never upscales, keeps the aspect
    let sink = try MP4FileSink(directory: outputDirectory, keyframeInterval: .seconds(4), logger: logger)
    let result = try await Transcoder(logger: logger).transcode(input: source, renditions: renditions, sink: sink)
    for file in result.thumbnails?.files ?? [] {                        // poster.jpg, sprite.jpg, storyboard.vtt
        try Data(file.bytes).write(to: outputDirectory.appendingPathComponent(file.name))
    }
}

// MARK: README.md

func readmeTranscode(upload: URL, video: Video, logger: Logger) async throws {
    let blobs = try FileBlobStore(root: URL(fileURLWithPath: "media"))
    let info = try await MediaProbe.probe(upload, logger: logger)
    let renditions = try LadderPlanner.plan(for: info)            // never upscales, keeps the aspect
    let sink = HLSSink(store: blobs, directory: "videos/\(video.id)", logger: logger)   // 4 s segments = keyframe spacing
    let result = try await Transcoder(logger: logger).transcode(input: upload, renditions: renditions, sink: sink)
    for file in result.thumbnails?.files ?? [] {                  // poster and storyboard, from the same decode
        try await blobs.put("videos/\(video.id)/\(file.name)", bytes: file.bytes, contentType: file.contentType)
    }
    // media/videos/<id>/master.m3u8, one directory of CMAF segments per rung, shared audio, poster.jpg, sprite.jpg, storyboard.vtt
}
