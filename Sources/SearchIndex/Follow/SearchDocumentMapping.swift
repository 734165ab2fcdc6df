public import SingleTableStore

/// Turns store items into search documents: the seam between the module that owns the items'
/// key layout and the index, which knows documents only.
///
/// `VideoPlatform`'s `CatalogSearchMapping` maps the catalog's videos; another mapping can index
/// other entities of any table. Implementations must be pure functions of the item.
public protocol SearchDocumentMapping: Sendable {
    /// The document for an item, or nil when the item is not searchable (a user, a review, …).
    /// Throws when the item looks searchable but cannot be read; the follower then stops.
    func document(for item: Item) throws -> SearchDocument?

    /// The id of the document an item maps to, from its key attributes alone (for removals);
    /// nil for items that never map to a document.
    func documentID(forKey key: Item) -> String?
}
