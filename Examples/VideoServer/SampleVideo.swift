import Foundation
import Logging
import ServiceLifecycle
import TranscodePipeline
import VideoCore
import VideoPlatform

/// Publishes one sample video on a data directory's first start, so the page has something to
/// show: a test pattern with a tone made in process by TranscodePipeline's ``TestPattern``,
/// uploaded through the platform's tus service as the `videostack` user, then transcoded by the
/// workers like any upload. A marker file in the data directory keeps later starts from seeding again.
struct SampleVideo: Service {
    static let owner = "videostack"
    static let title = "Colour bars and a 440 Hz tone"

    let platform: Platform
    let dataDirectory: URL
    let logger: Logger

    var marker: URL { dataDirectory.appendingPathComponent("sample-published") }

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: marker.path) else { return }
        do {
            // Ctrl-C while the clip is being made stops making it (the next start tries again).
            try await cancelWhenGracefulShutdown { try await publish() }
        } catch let error as VideoStackError where error.code == .cancelled {
            return
        } catch is CancellationError {
            return
        } catch {
            // The server is useful without the sample; say why it is missing and go on.
            logger.error("could not publish the sample video", metadata: ["error": "\(error)"])
        }
    }

    private func publish() async throws {
        // The account owns the sample only; a random password nobody knows keeps it closed.
        let password = (0..<4).map { _ in UUID().uuidString }.joined()
        do {
            _ = try await platform.accounts.signUp(username: Self.owner, email: "\(Self.owner)@localhost.localdomain",
                                                   password: password, displayName: "VideoStack")
        } catch let error as VideoStackError where error.code == .conflict {
            // A start that stopped between the sign-up and the upload: the account is there.
        }
        let clip = TestPattern(width: 1280, height: 720, frameRate: 30, duration: .seconds(12), toneFrequency: 440)
        let bytes = try await clip.data(logger: logger)
        let (upload, video) = try await platform.startUpload(owner: Self.owner, length: Int64(bytes.count), metadata: [
            "filename": "sample.mp4", "title": Self.title,
            "description": "A sample made on this machine when the server first started: libavfilter's test pattern and a sine tone, encoded by VideoStack's own FFmpeg wrapper.",
            "tags": "sample,test pattern", "visibility": "public",
        ])
        try await platform.uploads.append(upload.id, at: 0, bytes: [UInt8](bytes))
        try Data(video.description.utf8).write(to: marker, options: .atomic)
        logger.info("published the sample video; the workers are transcoding it", metadata: ["video": "\(video)"])
    }
}
