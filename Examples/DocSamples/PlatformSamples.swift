// The samples of Documentation/Accounts.md and Documentation/Uploads.md.
import Foundation
import Logging
import SingleTableStore
import VideoCore
import VideoPlatform

func accountsGuide(store: any ItemStore, dataDirectory: URL, videoID: VideoID, logger: Logger) async throws {
    let catalog = try Catalog(store: store)
    let accounts = try Accounts(catalog: catalog, configuration: AccountsConfiguration(), dataDirectory: dataDirectory, logger: logger)
    let limits = RequestRateLimiter(configuration: RateLimitConfiguration())
    let links = try ShareLinks(catalog: catalog)
    let playback = try PlaybackAuthorizer(
        catalog: catalog,
        signer: try PlaybackURLSigner(configuration: PlaybackSigningConfiguration(), dataDirectory: dataDirectory))

    try await accounts.signUp(username: "ada", email: "ada@example.com", password: "violet mountain river", displayName: "Ada")
    let tokens = try await accounts.signIn(email: "ada@example.com", password: "violet mountain river", clientAddress: "203.0.113.7")
    let user = try await accounts.authenticate(accessToken: tokens.accessToken)   // on every request
    let next = try await accounts.refresh(tokens.refreshToken)                     // before the access token expires
    let grant = try await playback.grant(for: videoID, viewer: user)               // plain or signed media URLs
    _ = (limits, links, next, grant)
}

func uploadsGuide(publishSaga: any UploadCompletionHandler, uploadMetadataHeader: String, videoID: VideoID,
                  requestBody: AsyncStream<[UInt8]>, logger: Logger) async throws {
    let store = try await SQLiteItemStore(url: URL(fileURLWithPath: "videostack.sqlite"), schema: .singleTable)
    let uploads = try UploadService(store: store, directory: URL(fileURLWithPath: "data/uploads"),
                                    configuration: UploadConfiguration(maxUploadSize: 8 << 30),
                                    completionHandler: publishSaga, logger: logger)
    try await uploads.resumePendingCompletions()          // at start-up

    let upload = try await uploads.create(owner: "ada", length: 1_048_576,
                                          metadata: try UploadMetadata.parse(uploadMetadataHeader),
                                          attachment: videoID.description)
    let after = try await uploads.append(upload.id, at: 0, checksum: nil, body: requestBody)
    // every few minutes:
    try await uploads.sweepExpired()
    _ = after
}
