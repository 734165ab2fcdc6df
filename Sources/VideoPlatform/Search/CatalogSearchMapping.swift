public import SearchIndex
public import SingleTableStore
internal import VideoCore

/// Maps the catalog's video items to search documents and skips every other item.
///
/// The catalog owns the key layout (a video is `PK` = `SK` = `VIDEO#<id>`, see ``Catalog``), so
/// the mapping from its items to documents lives here and `SearchIndex` stays ignorant of keys.
/// Pass it to `SearchFeedFollower` to keep an index in step with the catalog.
///
/// Videos stay in the index whatever their status and visibility; the default `SearchFilter`
/// shows only public, ready ones, so a video appears when it becomes ready and disappears when it
/// is made private or unlisted, and its owner can still find it with a wider filter.
public struct CatalogSearchMapping: SearchDocumentMapping {
    /// The key prefix of a video item in the catalog's layout.
    private static let videoPrefix = "VIDEO#"
    private let decoder = ItemDecoder()

    /// Makes the mapping.
    public init() {}

    /// The video id of a video item's key; nil for users, collection entries, reviews and the rest.
    public func documentID(forKey key: Item) -> String? {
        guard case .s(let pk)? = key["PK"], case .s(let sk)? = key["SK"], pk == sk,
              pk.hasPrefix(Self.videoPrefix) else { return nil }
        return String(pk.dropFirst(Self.videoPrefix.count))
    }

    /// The video's document; nil for items that are not videos.
    ///
    /// Throws `VideoStackError/Code/corrupt` for a video item that does not decode as a `Video`.
    public func document(for item: Item) throws -> SearchDocument? {
        guard documentID(forKey: item) != nil else { return nil }
        let video: Video
        do {
            video = try decoder.decode(Video.self, from: item)
        } catch {
            throw VideoStackError(.corrupt, "The video item \(item["PK"].map { "\($0)" } ?? "?") cannot be read as a Video; fix or delete the item.", cause: ErrorDescription(error))
        }
        return SearchDocument(video: video)
    }
}
