import Foundation
import HLSPackager
import Testing
import VideoCore
import Logging
import TestSupport

let testLogger = Logger(label: "hls-tests")

/// Makes an H.264/AAC MP4 with the ffmpeg CLI: testsrc2 video and a sine tone.
func makeTestMP4(_ path: String, seconds: Int = 9, size: String = "320x240", rate: Int = 25, extra: [String] = [],
                 audio: Bool = true) async throws {
    var arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)"]
    if audio { arguments += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)"] }
    arguments += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"] + extra
    if audio { arguments += ["-c:a", "aac", "-b:a", "96k"] }
    arguments.append(path)
    let result = try await run(arguments)
    try #require(result.status == 0, "ffmpeg failed: \(result.stderr)")
}

/// Plays `url` with ffmpeg and returns its warnings (empty when playback was clean).
func ffmpegPlaybackWarnings(_ url: String) async throws -> String {
    let result = try await run(["ffmpeg", "-v", "warning", "-nostdin", "-i", url, "-f", "null", "-"])
    return result.status == 0 ? result.stderr : "exit \(result.status): \(result.stderr)"
}

/// Plays `url` with GStreamer's playbin3; returns its exit status and output.
func gstreamerPlay(_ url: String) async throws -> ProcessResult {
    try await run(["gst-launch-1.0", "-q", "playbin3", "uri=\(url)", "video-sink=fakesink", "audio-sink=fakesink"])
}

/// Every playlist under `root`, checked with python m3u8 strict; returns the failures.
func checkAllPlaylists(_ root: URL) async throws -> [String] {
    let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }
        .filter { $0.hasSuffix(".m3u8") }.map { root.appendingPathComponent($0).path }
    #expect(!files.isEmpty)
    return try await m3u8StrictFailures(files)
}

/// Packets of one stream of a media file, as ffprobe reports them.
struct ProbedPacket {
    var pts: Double
    var duration: Double
    var isKeyframe: Bool
}

/// ffprobe's view of the packets of the first stream of `type` ("v" or "a") in `path`.
func probePackets(_ path: String, stream: String = "v") async throws -> [ProbedPacket] {
    let result = try await run(["ffprobe", "-v", "error", "-select_streams", "\(stream):0", "-show_entries", "packet=pts_time,duration_time,flags",
                          "-of", "csv=p=0", path])
    try #require(result.status == 0, "ffprobe failed on \(path): \(result.stderr)")
    return result.stdout.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 3, let pts = Double(fields[0]) else { return nil }
        return ProbedPacket(pts: pts, duration: Double(fields[1]) ?? 0, isKeyframe: fields[2].contains("K"))
    }
}

/// Concatenates files into one at `output` (init segment + media segment, for ffprobe).
func concatenate(_ inputs: [String], to output: String) throws {
    var data = Data()
    for input in inputs { data.append(try Data(contentsOf: URL(fileURLWithPath: input))) }
    try data.write(to: URL(fileURLWithPath: output))
}

/// Checks a packaged fMP4 rendition with ffprobe: every segment starts with a keyframe and its
/// video duration matches EXTINF (within one frame). Returns the segment start times ffprobe saw.
@discardableResult
func checkFMP4Rendition(_ dir: URL, playlist: MediaPlaylist, scratch: TemporaryDirectory, hasVideo: Bool = true) async throws -> [Double] {
    var starts: [Double] = []
    for (index, segment) in playlist.segments.enumerated() {
        let joined = scratch.path("check-\(UUID().uuidString).mp4")
        defer { try? FileManager.default.removeItem(atPath: joined) }
        try concatenate([dir.appendingPathComponent("init.mp4").path, dir.appendingPathComponent(segment.uri).path], to: joined)
        let packets = try await probePackets(joined, stream: hasVideo ? "v" : "a")
        try #require(!packets.isEmpty, "segment \(segment.uri) has no packets")
        let byPTS = packets.sorted { $0.pts < $1.pts }
        if hasVideo {
            #expect(packets[0].isKeyframe, "segment \(segment.uri) does not start with a keyframe")
        }
        let frame = byPTS.count > 1 ? byPTS[1].pts - byPTS[0].pts : 0.04
        let span = byPTS.last!.pts + byPTS.last!.duration - byPTS.first!.pts
        #expect(abs(span - segment.duration.inSeconds) <= frame + 0.001, "segment \(index) spans \(span) s of media but EXTINF says \(segment.duration)")
        #expect(Int(segment.duration.inSeconds.rounded()) <= playlist.targetDuration)
        starts.append(byPTS[0].pts)
    }
    return starts
}

/// A store over a fresh temp dir, removed when the test ends.
struct StoreFixture {
    let dir: TemporaryDirectory
    let store: FileBlobStore

    init() throws {
        dir = try TemporaryDirectory()
        store = try FileBlobStore(root: dir.url.appendingPathComponent("store"))
    }

    var root: URL { dir.url.appendingPathComponent("store") }

    func text(_ key: String) async throws -> String {
        String(decoding: try await store.get(key), as: UTF8.self)
    }
}
