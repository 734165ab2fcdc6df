// The samples of VideoStackLive.md and Documentation/Live.md.
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import VideoPlatform
import VideoStackLive

func runPlatformWithLive(logger: Logger) async throws {
    let platform = try await Platform(
        configuration: PlatformConfiguration(dataDirectory: URL(fileURLWithPath: "data")), logger: logger)
    var live = LiveConfiguration()
    live.rtmp.port = 1935
    live.segmentDuration = .seconds(2)
    let streaming = try LiveStreaming(platform: platform, configuration: live, logger: logger)
    let group = ServiceGroup(services: [platform, streaming], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    try await group.run()
}

func createLiveStream(streaming: LiveStreaming) async throws {
    let credentials = try await streaming.createStream(owner: "ada", title: "Launch day")
    print(credentials.ingestURL)    // OBS "Server": rtmp://127.0.0.1:1935/live
    print(credentials.streamKey)    // OBS "Stream Key": live_…
    print(credentials.publishURL)   // for ffmpeg: rtmp://127.0.0.1:1935/live/live_…
}

func lowLatencyLive() -> LiveConfiguration {
    var live = LiveConfiguration()
    live.segmentDuration = .seconds(1)
    live.window = 4
    return live
}
