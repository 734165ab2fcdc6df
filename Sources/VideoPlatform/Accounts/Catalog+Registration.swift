internal import SingleTableStore
internal import VideoCore

extension Catalog {
    /// The writes that register a user (``Catalog/register(_:)`` is exactly these): the user
    /// item (`PK` = `SK` = `USER#<username>`, `GSI1PK = EMAIL#<email>`) and the email claim
    /// (`PK` = `SK` = `EMAIL#<email>`), each on the condition that it does not exist yet. Other
    /// services append items of their own (the account's password hash) to make one transaction.
    ///
    /// Returns the user as stored (normalized username and email) and the actions, user first.
    func registrationActions(for user: User) throws -> (user: User, actions: [TransactAction]) {
        var user = user
        user.username = try User.normalizedUsername(user.username)
        user.email = try User.normalizedEmail(user.email)
        var item = try ItemEncoder().encode(user)
        item["PK"] = .s("USER#\(user.username)")
        item["SK"] = .s("USER#\(user.username)")
        item["GSI1PK"] = .s("EMAIL#\(user.email)")
        item["GSI1SK"] = .s("USER#\(user.username)")
        item["type"] = "user"
        let claim: Item = ["PK": .s("EMAIL#\(user.email)"), "SK": .s("EMAIL#\(user.email)"), "username": .s(user.username), "type": "emailClaim"]
        return (user, [.put(item, condition: .notExists("PK")), .put(claim, condition: .notExists("PK"))])
    }

    /// The `conflict` error saying whether the username or the email was taken, for a
    /// transaction that began with ``registrationActions(for:)``; nil if neither was.
    static func registrationConflict(_ error: VideoStackError, user: User) -> VideoStackError? {
        guard error.code == .transactionCanceled, let reasons = error.cancellationReasons else { return nil }
        if case .conditionalCheckFailed? = reasons.first {
            return VideoStackError(.conflict, "The username '\(user.username)' is taken; choose another.")
        }
        if reasons.count > 1, case .conditionalCheckFailed = reasons[1] {
            return VideoStackError(.conflict, "The email address '\(user.email)' is already registered; sign in instead.")
        }
        return nil
    }
}
