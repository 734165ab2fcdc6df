internal import Foundation
internal import SingleTableStore
internal import VideoCore

/// The account items in the single table, next to the user item in the user's partition:
///
/// | item | PK | SK | attributes |
/// |---|---|---|---|
/// | account | `USER#<username>` | `ACCOUNT` | `passwordHash` (PHC string), `role`, `epoch` (N), `createdAt`, `passwordChangedAt` |
/// | session | `USER#<username>` | `SESSION#<family>` | `refreshHash` (B, SHA-256 of the current refresh secret), `generation` (N), `epoch` (N), `createdAt`, `refreshedAt`, `expiresAt` (N, Unix seconds) |
///
/// Times are `N` Unix seconds; `expiresAt` is what a DynamoDB TTL setting would use. The
/// password hash lives in the account item, not the user item, so nothing that reads a user's
/// profile ever holds it.
struct AccountRecord: Sendable {
    var username: String
    var passwordHash: String
    var role: Role
    var epoch: Int64
    var createdAt: Int64
    var passwordChangedAt: Int64

    static func key(_ username: String) -> Item {
        ["PK": .s("USER#\(username)"), "SK": "ACCOUNT"]
    }

    var item: Item {
        var item = Self.key(username)
        item["type"] = "account"
        item["username"] = .s(username)
        item["passwordHash"] = .s(passwordHash)
        item["role"] = .s(role.rawValue)
        item["epoch"] = .int(epoch)
        item["createdAt"] = .int(createdAt)
        item["passwordChangedAt"] = .int(passwordChangedAt)
        return item
    }

    init(username: String, passwordHash: String, role: Role, epoch: Int64, createdAt: Int64, passwordChangedAt: Int64) {
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.epoch = epoch
        self.createdAt = createdAt
        self.passwordChangedAt = passwordChangedAt
    }

    init(item: Item) throws {
        guard let username = item["username"]?.string, let hash = item["passwordHash"]?.string, let role = item["role"]?.string,
              let epoch = item["epoch"]?.int64
        else {
            throw VideoStackError(.corrupt, "The account item \(item["PK"]?.string ?? "?") lacks username, passwordHash, role or epoch.")
        }
        self.init(username: username, passwordHash: hash, role: try Role(parsing: role), epoch: epoch,
                  createdAt: item["createdAt"]?.int64 ?? 0, passwordChangedAt: item["passwordChangedAt"]?.int64 ?? 0)
    }
}

/// One signed-in session: a family of refresh tokens, of which only the newest is valid.
struct SessionRecord: Sendable {
    var username: String
    var family: String
    var refreshHash: [UInt8]
    var generation: Int64
    var epoch: Int64
    var createdAt: Int64
    var refreshedAt: Int64
    var expiresAt: Int64

    static func key(_ username: String, family: String) -> Item {
        ["PK": .s("USER#\(username)"), "SK": .s("SESSION#\(family)")]
    }

    static let sortKeyPrefix = "SESSION#"

    var item: Item {
        var item = Self.key(username, family: family)
        item["type"] = "session"
        item["username"] = .s(username)
        item["family"] = .s(family)
        item["refreshHash"] = .b(refreshHash)
        item["generation"] = .int(generation)
        item["epoch"] = .int(epoch)
        item["createdAt"] = .int(createdAt)
        item["refreshedAt"] = .int(refreshedAt)
        item["expiresAt"] = .int(expiresAt)
        return item
    }

    init(username: String, family: String, refreshHash: [UInt8], generation: Int64, epoch: Int64, createdAt: Int64, refreshedAt: Int64, expiresAt: Int64) {
        self.username = username
        self.family = family
        self.refreshHash = refreshHash
        self.generation = generation
        self.epoch = epoch
        self.createdAt = createdAt
        self.refreshedAt = refreshedAt
        self.expiresAt = expiresAt
    }

    init(item: Item) throws {
        guard let username = item["username"]?.string, let family = item["family"]?.string, let hash = item["refreshHash"]?.bytes,
              let generation = item["generation"]?.int64, let epoch = item["epoch"]?.int64, let expiresAt = item["expiresAt"]?.int64
        else {
            throw VideoStackError(.corrupt, "The session item \(item["SK"]?.string ?? "?") lacks one of its attributes.")
        }
        self.init(username: username, family: family, refreshHash: hash, generation: generation, epoch: epoch,
                  createdAt: item["createdAt"]?.int64 ?? 0, refreshedAt: item["refreshedAt"]?.int64 ?? 0, expiresAt: expiresAt)
    }
}
