import Foundation
import SingleTableStore
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct AccountsTests {
    static let password = "correct horse battery staple"

    /// Signs Ada up and in once.
    func adaSignedIn(_ accounts: Accounts) async throws -> SessionTokens {
        try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
        return try await accounts.signIn(email: "ada@example.com", password: Self.password)
    }

    // MARK: Sign-up

    @Test func signUpIsUniqueOnUsernameAndEmailAndStoresNoHashInTheUser() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let user = try await accounts.signUp(username: "Ada", email: "  Ada@Example.COM ", password: Self.password, displayName: "Ada Lovelace")
            #expect(user.username == "ada" && user.email == "ada@example.com" && user.displayName == "Ada Lovelace")
            #expect(try await fixture.catalog.user(email: "ada@example.com")?.username == "ada")
            // The profile never carries the hash; the account item does, in PHC format.
            #expect(try await fixture.catalog.user(named: "ada")?.passwordHash == "")
            let account = try #require(try await fixture.store.getItem(key: ["PK": "USER#ada", "SK": "ACCOUNT"]))
            #expect(account["passwordHash"]?.string?.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$") == true)
            #expect(account["role"] == "member")

            let duplicateName = await thrownError { try await accounts.signUp(username: "ADA", email: "other@example.com", password: Self.password) }
            #expect(duplicateName?.code == .conflict && duplicateName?.message.contains("username") == true)
            #expect(try await fixture.catalog.user(email: "other@example.com") == nil)
            let duplicateEmail = await thrownError { try await accounts.signUp(username: "grace", email: "ADA@example.com", password: Self.password) }
            #expect(duplicateEmail?.code == .conflict && duplicateEmail?.message.contains("email") == true)
            #expect(try await fixture.catalog.user(named: "grace") == nil)
            #expect(try await fixture.store.getItem(key: ["PK": "USER#grace", "SK": "ACCOUNT"]) == nil)
        }
    }

    @Test func twentyConcurrentSignUpsForOneEmailMakeExactlyOneAccount() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        do {
                            try await accounts.signUp(username: "racer\(i)", email: "same@example.com", password: Self.password)
                            return true
                        } catch let error as VideoStackError where error.code == .conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            let accountItems = try await fixture.store.scan(Scan(filter: .equal("type", "account"))).items
            let claims = try await fixture.store.scan(Scan(filter: .equal("type", "emailClaim"))).items
            #expect(accountItems.count == 1 && claims.count == 1)
            let winner = try #require(try await fixture.catalog.user(email: "same@example.com"))
            #expect(accountItems.first?["username"]?.string == winner.username)
            _ = try await accounts.signIn(email: "same@example.com", password: Self.password)
        }
    }

    @Test func signUpRefusesHostileInput() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let huge = String(repeating: "a", count: 5_000_000)
            let cases: [(String, String, String, String, VideoStackError.Code)] = [
                (huge, "a@example.com", Self.password, "", .invalidInput),
                ("ab", "a@example.com", Self.password, "", .invalidInput),
                ("bad name", "a@example.com", Self.password, "", .invalidInput),
                ("naïve", "a@example.com", Self.password, "", .invalidInput),
                ("evil\u{0}", "a@example.com", Self.password, "", .invalidInput),
                ("okname", huge + "@example.com", Self.password, "", .invalidInput),
                ("okname", "a\u{0}b@example.com", Self.password, "", .invalidInput),
                ("okname", "a\u{202E}b@example.com", Self.password, "", .invalidInput),
                ("okname", "a\u{200B}b@example.com", Self.password, "", .invalidInput),
                // Bytes that were not UTF-8 arrive as U+FFFD.
                ("okname", String(decoding: [0x61, 0xFF, 0xFE, 0x40, 0x62, 0x2E, 0x63, 0x6F], as: UTF8.self), Self.password, "", .invalidInput),
                ("okname", "not-an-email", Self.password, "", .invalidInput),
                ("okname", "a@example.com", Self.password, String(repeating: "x", count: 65), .limitExceeded),
                ("okname", "a@example.com", Self.password, "line\nbreak", .invalidInput),
                ("okname", "a@example.com", Self.password, "\u{202E}reversed", .invalidInput),
                ("okname", "a@example.com", "pass\u{0}word with nul", "", .invalidInput),
                ("okname", "a@example.com", huge, "", .limitExceeded),
            ]
            for (username, email, password, name, expected) in cases {
                let error = await thrownError { try await accounts.signUp(username: username, email: email, password: password, displayName: name) }
                #expect(error?.code == expected, "\(username.prefix(12)) \(email.prefix(20)) \(name.prefix(12)): \(String(describing: error))")
                #expect((error?.message.utf8.count ?? 0) < 400)
            }
            #expect(try await fixture.store.scan(Scan()).items.isEmpty)
            // A family emoji (joined with U+200D) is a fine name.
            let user = try await accounts.signUp(username: "okname", email: "a@example.com", password: Self.password, displayName: "👨‍👩‍👧 home")
            #expect(user.displayName == "👨‍👩‍👧 home")
        }
    }

    // MARK: Sign-in

    @Test func signInChecksThePasswordAndAWrongEmailFailsTheSameWay() async throws {
        try await PlatformFixture.with { fixture in
            let hasher = try RecordingHasher(configuration: quickHashing)
            let accounts = try fixture.accounts(hasher: hasher)
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            let tokens = try await accounts.signIn(email: " ADA@example.com", password: Self.password, clientAddress: "203.0.113.5")
            #expect(tokens.user.username == "ada" && tokens.user.role == .member)
            #expect(try await accounts.authenticate(accessToken: tokens.accessToken) == tokens.user)

            hasher.verified.withLock { $0 = [] }
            let wrongPassword = try #require(await thrownError { try await accounts.signIn(email: "ada@example.com", password: "correct horse battery stapler") })
            let wrongEmail = try #require(await thrownError { try await accounts.signIn(email: "nobody@example.com", password: Self.password) })
            #expect(wrongPassword.code == .unauthenticated)
            #expect(wrongEmail.code == wrongPassword.code && wrongEmail.message == wrongPassword.message)
            // Both ran one Argon2id verification with the same parameters: the same work.
            let verified = hasher.verified.withLock { $0 }
            #expect(verified.count == 2 && verified[0] == verified[1] && verified[0].hasPrefix("m=1024,t=1,p=1"))
        }
    }

    @Test func raisedParametersRehashOnTheNextSignIn() async throws {
        try await PlatformFixture.with { fixture in
            let old = try fixture.accounts()
            try await old.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            // The operator raises the cost (here to OWASP's defaults); the stored hash keeps its own.
            let raised = try fixture.accounts(AccountsConfiguration(passwordHashing: PasswordHashingConfiguration()))
            let before = try #require(try await fixture.store.getItem(key: ["PK": "USER#ada", "SK": "ACCOUNT"])?["passwordHash"]?.string)
            #expect(before.contains("m=1024,t=1,p=1"))
            _ = try await raised.signIn(email: "ada@example.com", password: Self.password)
            let after = try #require(try await fixture.store.getItem(key: ["PK": "USER#ada", "SK": "ACCOUNT"])?["passwordHash"]?.string)
            #expect(after.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$") && after != before)
            // The new hash verifies, and a wrong password still fails against it.
            _ = try await raised.signIn(email: "ada@example.com", password: Self.password)
            #expect(await thrownError { try await raised.signIn(email: "ada@example.com", password: "wrong password here") }?.code == .unauthenticated)
            #expect(try await fixture.store.getItem(key: ["PK": "USER#ada", "SK": "ACCOUNT"])?["passwordHash"]?.string == after)
        }
    }

    @Test func failedSignInsAreLimitedPerAccountWithTheTimeToRetry() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            for i in 0..<5 {
                // Each from another address: only the account's bucket counts them all.
                let error = await thrownError { try await accounts.signIn(email: "ada@example.com", password: "guess number \(i)", clientAddress: "198.51.100.\(i)") }
                #expect(error?.code == .unauthenticated)
            }
            let locked = try #require(await thrownError { try await accounts.signIn(email: "ada@example.com", password: Self.password, clientAddress: "198.51.100.77") })
            #expect(locked.code == .rateLimited && locked.retryAfter == .seconds(60))
            #expect(locked.message.contains("60 seconds"))
            // An unknown email is limited exactly alike (nothing tells it apart from a real one).
            for _ in 0..<5 { _ = await thrownError { try await accounts.signIn(email: "ghost@example.com", password: "guess guess") } }
            let ghost = await thrownError { try await accounts.signIn(email: "ghost@example.com", password: "guess guess") }
            #expect(ghost?.code == .rateLimited && ghost?.retryAfter == .seconds(60))

            fixture.clock.advance(30)
            #expect(await thrownError { try await accounts.signIn(email: "ada@example.com", password: Self.password) }?.retryAfter == .seconds(30))
            fixture.clock.advance(30)
            // One attempt earned back: the right password gets in, and a right password does not count.
            _ = try await accounts.signIn(email: "ada@example.com", password: Self.password)
            _ = try await accounts.signIn(email: "ada@example.com", password: Self.password)
        }
    }

    @Test func failedSignInsAreLimitedPerClientAddress() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts(AccountsConfiguration(
                passwordHashing: quickHashing, signInAttemptsPerAddress: TokenBucketPolicy(capacity: 3, refillInterval: .seconds(20))))
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            // Spraying one guess over many accounts from one address.
            for i in 0..<3 {
                let error = await thrownError { try await accounts.signIn(email: "victim\(i)@example.com", password: "summer hike 2024", clientAddress: "2001:db8:1:2::\(i)") }
                #expect(error?.code == .unauthenticated)
            }
            // Another address in the same /64 is the same client.
            let limited = await thrownError { try await accounts.signIn(email: "ada@example.com", password: Self.password, clientAddress: "2001:db8:1:2:ffff::1") }
            #expect(limited?.code == .rateLimited && limited?.retryAfter == .seconds(20))
            // Another network is not affected.
            _ = try await accounts.signIn(email: "ada@example.com", password: Self.password, clientAddress: "2001:db8:1:3::1")
            fixture.clock.advance(20)
            _ = try await accounts.signIn(email: "ada@example.com", password: Self.password, clientAddress: "2001:db8:1:2::9")
        }
    }

    @Test func signInRefusesHostileInputWithTypedErrors() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            let huge = String(repeating: "p", count: 2_000_000)
            let cases: [(String, String, VideoStackError.Code)] = [
                (String(repeating: "e", count: 1_000_000) + "@x.io", Self.password, .invalidInput),
                ("ada@example.com\u{0}", Self.password, .invalidInput),
                (String(decoding: [0x61, 0x64, 0x61, 0xC3, 0x40, 0x65, 0x2E, 0x63], as: UTF8.self), Self.password, .invalidInput),
                ("", Self.password, .invalidInput),
                ("ada@example.com", "", .invalidInput),
                ("ada@example.com", huge, .limitExceeded),
                ("ada@example.com", "line\nfeed password", .invalidInput),
            ]
            for (email, password, expected) in cases {
                #expect(await thrownError { try await accounts.signIn(email: email, password: password) }?.code == expected)
            }
            // None of that counted as a failed attempt against the account.
            _ = try await accounts.signIn(email: "ada@example.com", password: Self.password)
        }
    }

    // MARK: Tokens and sessions

    @Test func accessTokensExpireOnTheInjectedClock() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let tokens = try await adaSignedIn(accounts)
            #expect(tokens.accessTokenExpiresAt == fixture.clock.now.addingTimeInterval(15 * 60))
            fixture.clock.advance(14 * 60)
            _ = try await accounts.authenticate(accessToken: tokens.accessToken)
            fixture.clock.advance(60 + 31)  // past expiry and the 30 s leeway
            let expired = await thrownError { try await accounts.authenticate(accessToken: tokens.accessToken) }
            #expect(expired?.code == .unauthenticated && expired?.message.contains("expired") == true)
            // The refresh token still works and gives a fresh access token.
            let renewed = try await accounts.refresh(tokens.refreshToken)
            #expect(try await accounts.authenticate(accessToken: renewed.accessToken).username == "ada")
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheWholeFamily() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            let first = try await accounts.signIn(email: "ada@example.com", password: Self.password)
            let other = try await accounts.signIn(email: "ada@example.com", password: Self.password)  // another device
            let second = try await accounts.refresh(first.refreshToken)
            #expect(second.refreshToken != first.refreshToken && second.user.sessionFamily == first.user.sessionFamily)
            let stored = try #require(try await fixture.store.getItem(key: ["PK": "USER#ada", "SK": .s("SESSION#\(first.user.sessionFamily)")]))
            // Only a hash of the token is stored, never the token or its secret.
            #expect(stored["refreshHash"]?.bytes?.count == 32 && stored["generation"] == 1)
            #expect(!stored.values.contains { $0.string.map { second.refreshToken.contains($0) && $0.count > 20 } == true })
            let third = try await accounts.refresh(second.refreshToken)

            // Someone replays the first token (stolen before it was rotated).
            let reuse = await thrownError { try await accounts.refresh(first.refreshToken) }
            #expect(reuse?.code == .unauthenticated && reuse?.message.contains("already used") == true)
            // The whole family is gone: the newest refresh token and its access token too.
            #expect(await thrownError { try await accounts.refresh(third.refreshToken) }?.code == .unauthenticated)
            #expect(await thrownError { try await accounts.authenticate(accessToken: third.accessToken) }?.code == .unauthenticated)
            // The other device's session is untouched.
            _ = try await accounts.authenticate(accessToken: other.accessToken)
            _ = try await accounts.refresh(other.refreshToken)
        }
    }

    @Test func twoConcurrentRefreshesWithOneTokenCannotBothWin() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            for _ in 0..<5 {
                let tokens = try await accounts.signIn(email: "ada@example.com", password: Self.password)
                let wins = try await withThrowingTaskGroup(of: SessionTokens?.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            do { return try await accounts.refresh(tokens.refreshToken) } catch let error as VideoStackError where error.code == .unauthenticated { return nil }
                        }
                    }
                    return try await group.reduce(into: [SessionTokens]()) { if let t = $1 { $0.append(t) } }
                }
                #expect(wins.count <= 1)
                if wins.count == 1 {
                    // The loser presented a rotated token: the family ended, the winner's tokens with it.
                    #expect(await thrownError { try await accounts.refresh(wins[0].refreshToken) }?.code == .unauthenticated)
                }
            }
        }
    }

    @Test func refreshSessionsExpireWhenIdle() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let tokens = try await adaSignedIn(accounts)
            #expect(tokens.refreshTokenExpiresAt == fixture.clock.now.addingTimeInterval(30 * 86_400))
            fixture.clock.advance(29 * 86_400)
            let renewed = try await accounts.refresh(tokens.refreshToken)
            fixture.clock.advance(30 * 86_400 + 1)
            #expect(await thrownError { try await accounts.refresh(renewed.refreshToken) }?.message.contains("expired") == true)
        }
    }

    @Test func signOutEndsOneSessionAndSignOutEverywhereEndsAll() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            let laptop = try await accounts.signIn(email: "ada@example.com", password: Self.password)
            let phone = try await accounts.signIn(email: "ada@example.com", password: Self.password)
            let tablet = try await accounts.signIn(email: "ada@example.com", password: Self.password)

            try await accounts.signOut(try await accounts.authenticate(accessToken: laptop.accessToken))
            #expect(await thrownError { try await accounts.authenticate(accessToken: laptop.accessToken) }?.code == .unauthenticated)
            #expect(await thrownError { try await accounts.refresh(laptop.refreshToken) }?.code == .unauthenticated)
            _ = try await accounts.authenticate(accessToken: phone.accessToken)
            try await accounts.signOut(refreshToken: tablet.refreshToken)
            #expect(await thrownError { try await accounts.authenticate(accessToken: tablet.accessToken) }?.code == .unauthenticated)

            try await accounts.signOutEverywhere("ada")
            #expect(await thrownError { try await accounts.authenticate(accessToken: phone.accessToken) }?.code == .unauthenticated)
            #expect(await thrownError { try await accounts.refresh(phone.refreshToken) }?.code == .unauthenticated)
            let sessions = try await fixture.store.query(Query(partitionKey: "USER#ada", sortKey: .beginsWith("SESSION#")))
            #expect(sessions.items.isEmpty)
            // Signing in again works, in the new epoch.
            let again = try await accounts.signIn(email: "ada@example.com", password: Self.password)
            _ = try await accounts.authenticate(accessToken: again.accessToken)
            #expect(await thrownError { try await accounts.signOutEverywhere("nobody") }?.code == .notFound)
        }
    }

    @Test func sessionsPerUserAreCapped() async throws {
        try await PlatformFixture.with { fixture in
            var configuration = AccountsConfiguration(passwordHashing: quickHashing)
            configuration.maximumSessionsPerUser = 3
            let accounts = try fixture.accounts(configuration)
            try await accounts.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            var sessions: [SessionTokens] = []
            for _ in 0..<5 {
                sessions.append(try await accounts.signIn(email: "ada@example.com", password: Self.password))
                fixture.clock.advance(1)
            }
            let stored = try await fixture.store.query(Query(partitionKey: "USER#ada", sortKey: .beginsWith("SESSION#")))
            #expect(stored.items.count == 3)
            #expect(await thrownError { try await accounts.authenticate(accessToken: sessions[0].accessToken) }?.code == .unauthenticated)
            _ = try await accounts.authenticate(accessToken: sessions[4].accessToken)
        }
    }

    @Test func rolesAreReadFromTheStoreOnEveryRequest() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let tokens = try await adaSignedIn(accounts)
            try await accounts.setRole(.admin, for: "ada")
            #expect(try await accounts.authenticate(accessToken: tokens.accessToken).role == .admin)
            #expect(try await accounts.role(of: "ADA") == .admin)
            let adminTokens = try await accounts.refresh(tokens.refreshToken)
            #expect(try accounts.tokenSigner.verify(adminTokens.accessToken).role == .admin)
            try await accounts.setRole(.member, for: "ada")
            // The token still says admin; the store says member, and the store wins.
            #expect(try await accounts.authenticate(accessToken: adminTokens.accessToken).role == .member)
            #expect(await thrownError { try await accounts.setRole(.admin, for: "nobody") }?.code == .notFound)
        }
    }

    @Test func changingThePasswordSignsOutEverywhere() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let tokens = try await adaSignedIn(accounts)
            #expect(await thrownError { try await accounts.changePassword(of: "ada", from: "not the password", to: "violet mountain river") }?.code == .unauthenticated)
            #expect(await thrownError { try await accounts.changePassword(of: "ada", from: Self.password, to: "password1") }?.code == .invalidInput)
            try await accounts.changePassword(of: "ada", from: Self.password, to: "violet mountain river")
            #expect(await thrownError { try await accounts.authenticate(accessToken: tokens.accessToken) }?.code == .unauthenticated)
            #expect(await thrownError { try await accounts.signIn(email: "ada@example.com", password: Self.password) }?.code == .unauthenticated)
            _ = try await accounts.signIn(email: "ada@example.com", password: "violet mountain river")
        }
    }

    @Test func garbageAndTamperedTokensAreRefused() async throws {
        try await PlatformFixture.with { fixture in
            let accounts = try fixture.accounts()
            let tokens = try await adaSignedIn(accounts)
            var generator = SeededGenerator(seed: 7)
            var garbage = ["", ".", "..", "...", "a.b.c", String(repeating: "A", count: 100_000), "\u{0}\u{1}", "🙂.🙂.🙂",
                           tokens.accessToken + ".", tokens.accessToken + "A", String(tokens.accessToken.dropLast()),
                           String(tokens.refreshToken.dropLast()), tokens.refreshToken + "=", tokens.refreshToken.replacingOccurrences(of: ".", with: ".."),
                           String(tokens.accessToken.prefix(tokens.accessToken.count / 2))]
            for _ in 0..<50 {
                var bytes = Array(tokens.refreshToken.utf8)
                bytes[generator.below(bytes.count)] = UInt8(ascii: "A") &+ UInt8(generator.below(26))
                garbage.append(String(decoding: bytes, as: UTF8.self))
                var access = Array(tokens.accessToken.utf8)
                access[generator.below(access.count)] = UInt8(ascii: "a") &+ UInt8(generator.below(26))
                garbage.append(String(decoding: access, as: UTF8.self))
            }
            for token in garbage where token != tokens.accessToken && token != tokens.refreshToken {
                #expect(await thrownError { try await accounts.authenticate(accessToken: token) }?.code == .unauthenticated)
                #expect(await thrownError { try await accounts.refresh(token) }?.code == .unauthenticated)
                #expect(await thrownError { try await accounts.signOut(refreshToken: token) }?.code == .unauthenticated)
            }
            // A forged refresh token can end no one's session: the real one still refreshes.
            _ = try await accounts.refresh(tokens.refreshToken)
        }
    }

    @Test func theSigningKeyIsMadeOnceAndKeptPrivate() async throws {
        try await PlatformFixture.with { fixture in
            let first = try fixture.accounts()
            let path = fixture.directory.appendingPathComponent(Accounts.signingKeyFileName).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            try await first.signUp(username: "ada", email: "ada@example.com", password: Self.password)
            let tokens = try await first.signIn(email: "ada@example.com", password: Self.password)
            // A restart reads the same key: earlier tokens stay valid.
            let second = try fixture.accounts()
            _ = try await second.authenticate(accessToken: tokens.accessToken)
            // Another key does not accept them.
            var configuration = AccountsConfiguration(passwordHashing: quickHashing)
            configuration.signingKey = Array(repeating: 7, count: 32)
            let other = try fixture.accounts(configuration)
            #expect(await thrownError { try await other.authenticate(accessToken: tokens.accessToken) }?.code == .unauthenticated)
            // ...until the old key is listed as a previous one (rotation).
            configuration.previousSigningKeys = [Array(try #require(Data(base64Encoded: String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))))]
            _ = try await fixture.accounts(configuration).authenticate(accessToken: tokens.accessToken)
            // A key file others can read is refused, not used.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            #expect(await thrownError { try fixture.accounts() }?.code == .forbidden)
            try "short".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            #expect(await thrownError { try fixture.accounts() }?.code == .corrupt)
        }
    }
}

/// The real Argon2id hasher, noting the parameters of every hash it verifies.
final class RecordingHasher: PasswordHasher {
    let inner: Argon2PasswordHasher
    let verified = Mutex<[String]>([])

    init(configuration: PasswordHashingConfiguration) throws { inner = try Argon2PasswordHasher(configuration: configuration) }

    func hash(_ password: String) async throws -> String { try await inner.hash(password) }

    func verify(_ password: String, against encoded: String) async throws -> PasswordCheck {
        let fields = encoded.split(separator: "$")
        verified.withLock { $0.append(fields.count > 2 ? "\(fields[2]),salt=\(fields[3].count),hash=\(fields.last!.count)" : encoded) }
        return try await inner.verify(password, against: encoded)
    }

    func decoyHash() -> String { inner.decoyHash() }
}
