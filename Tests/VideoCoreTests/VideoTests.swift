import Foundation
import Testing
import VideoCore

@Suite struct VideoTests {
    @Test func durationTravelsAsANumberOfSeconds() throws {
        let video = Video(owner: "ada", title: "Clip", duration: .milliseconds(93_500), progress: 0.5)
        let json = try JSONEncoder().encode(video)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["duration"] as? Double == 93.5)
        let decoded = try JSONDecoder().decode(Video.self, from: json)
        #expect(decoded == video)
        // A video not probed yet has no duration at all.
        let unprobed = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(Video(owner: "ada", title: "New"))) as? [String: Any]
        #expect(unprobed?["duration"] == nil)
    }

    @Test func storedDurationsThatAreNoSpanAreRejected() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(Video(owner: "ada", title: "Clip"))) as? [String: Any])
        for bad: Any in [-1.0, 1e300, "93.5"] {
            object["duration"] = bad
            let data = try JSONSerialization.data(withJSONObject: object)
            #expect(throws: DecodingError.self, "\(bad)") { try JSONDecoder().decode(Video.self, from: data) }
        }
    }

    @Test func statusLifecycle() {
        #expect(VideoStatus.uploading.canTransition(to: .processing))
        #expect(VideoStatus.processing.canTransition(to: .ready) && VideoStatus.processing.canTransition(to: .failed))
        #expect(VideoStatus.failed.canTransition(to: .processing))
        #expect(!VideoStatus.ready.canTransition(to: .processing) && !VideoStatus.ready.canTransition(to: .uploading))
        // Nothing moves back to the statuses a video is created in.
        #expect(!VideoStatus.allCases.contains { $0.canTransition(to: .uploading) || $0.canTransition(to: .liveScheduled) })
        #expect(VideoStatus.allCases.filter(\.isPlayable) == [.ready, .live])
    }
}
