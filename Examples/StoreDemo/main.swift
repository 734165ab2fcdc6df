// store-demo: exercises the embedded store through the catalog and prints what it did.
// Run with `make demo`. Until the example server exists, this is VideoStack's main job.
import Foundation
import SingleTableStore
import VideoCore
import VideoPlatform

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videostack-demo-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

let databaseURL = directory.appendingPathComponent("videostack.sqlite")
let store = try await SQLiteItemStore(url: databaseURL, schema: .singleTable)
let catalog = try Catalog(store: store)
let blobs = try FileBlobStore(root: directory.appendingPathComponent("media"))
print("Opened the embedded store at \(databaseURL.path)")

// Users: unique on both username and email, in one transaction.
try await catalog.register(User(username: "ada", email: "ada@example.com", displayName: "Ada Lovelace"))
try await catalog.register(User(username: "grace", email: "grace@example.com", displayName: "Grace Hopper"))
print("Registered users ada and grace")
do {
    try await catalog.register(User(username: "ada2", email: "ADA@example.com"))
} catch let error as VideoStackError where error.code == .conflict {
    print("Refused a second account for ada's email: \(error.message)")
}
if let found = try await catalog.user(email: "Grace@Example.com") {
    print("Found \(found.displayName) by email through GSI1")
}

// Videos: the item and its entry in the uploader's collection, in one transaction.
var videos: [Video] = []
for (title, tags) in [("Analytical engines, explained", ["history", "computing"]),
                      ("Notes on note G", ["math"]),
                      ("Bernoulli numbers by hand", ["math", "tutorial"])] {
    let video = Video(owner: "ada", title: title, tags: tags)
    try await catalog.create(video)
    videos.append(video)
    try await blobs.put("videos/\(video.id)/title.txt", string: title)
}
print("Created \(videos.count) videos for ada, and stored a blob for each")

// Newest first, a page at a time.
let firstPage = try await catalog.videos(of: "ada", limit: 2)
print("ada's videos, newest first (page 1): \(firstPage.videos.map(\.title))")
let secondPage = try await catalog.videos(of: "ada", limit: 2, after: firstPage.next)
print("ada's videos (page 2): \(secondPage.videos.map(\.title))")

// A status change, written only if the status may move (uploading → processing, once).
try await catalog.transition(videos[0].id, to: .processing, from: .uploading)
do {
    try await catalog.transition(videos[0].id, to: .processing, from: .uploading)
} catch let error as VideoStackError where error.code == .conflict {
    print("A second move to processing was refused: \(error.message)")
}

// Reviews and the video's rating totals, updated together.
for (author, rating) in [("grace", 5), ("ada", 4)] {
    try await catalog.submit(try Review(videoID: videos[1].id, author: author, rating: rating, text: "Rated \(rating)"))
}
try await catalog.recordViews(videos[1].id, count: 42)
if let rated = try await catalog.video(videos[1].id) {
    print("'\(rated.title)': \(rated.ratingCount) reviews, average \(rated.averageRating ?? 0), \(rated.views) views")
}
let reviews = try await catalog.reviews(of: videos[1].id)
print("Reviews, newest first: \(reviews.reviews.map { "\($0.author): \($0.rating)" })")

// The change feed that search and other consumers follow.
let changes = try await store.changes(after: nil, limit: 100)
let counts = Dictionary(grouping: changes, by: \.kind).mapValues(\.count)
print("Change feed: \(changes.count) changes (\(counts[.insert] ?? 0) inserts, \(counts[.modify] ?? 0) modifications, \(counts[.remove] ?? 0) removals)")
print("Integrity check: \(try await store.integrityCheck().joined(separator: ", "))")
store.close()
print("Done.")
