public import VideoCore

/// The fields of a video its owner edits, for ``Catalog/updateMetadata(_:_:)``: each field left
/// nil stays as it is.
///
/// Status, renditions and the other processing fields change only with
/// ``Catalog/transition(_:to:from:duration:renditions:failureReason:)``; views and ratings only
/// through ``Catalog/recordViews(_:count:)`` and reviews. The owner never changes: a video stays
/// in its uploader's collection.
public struct VideoMetadataChanges: Hashable, Sendable {
    /// A new title (checked as `Video/validate()` checks titles).
    public var title: String?
    /// A new description.
    public var description: String?
    /// New tags, replacing all the old ones (an empty list removes them).
    public var tags: [String]?
    /// Who may see the video from now on.
    public var visibility: Visibility?

    /// The changes of the given fields.
    public init(title: String? = nil, description: String? = nil, tags: [String]? = nil, visibility: Visibility? = nil) {
        self.title = title
        self.description = description
        self.tags = tags
        self.visibility = visibility
    }

    /// Whether no field is given.
    public var isEmpty: Bool { title == nil && description == nil && tags == nil && visibility == nil }

    /// Checks every given field as `Video/validate()` would.
    func validate() throws {
        guard !isEmpty else {
            throw VideoStackError(.invalidInput, "A metadata update needs at least one field to change (title, description, tags or visibility).")
        }
        if let title { try Video.check(title: title) }
        if let description { try Video.check(description: description) }
        if let tags { try Video.check(tags: tags) }
    }
}
