import ArgumentParser
import Foundation
import HLSPackager
import VideoCore

/// `videostack package FILE --out DIR`: the remux path, HLS from an already-encoded file without re-encoding.
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Package an H.264/AAC file as HLS without re-encoding (segments cut at its own keyframes)."
    )

    @Argument(help: "The source file (MP4/MOV read directly; MKV, TS and others through FFmpeg's demuxer).") var file: String
    @Option(help: "Output directory (created if missing); gets master.m3u8.") var out: String
    @Option(help: "Target segment duration in seconds (2 to 10).") var segment: Double = 4
    @Option(help: "Segment format: fmp4 or ts.") var segmentFormat = "fmp4"
    @Flag(help: "One media file per rendition addressed with byte ranges, instead of one file per segment.") var singleFile = false
    @Flag(help: "Mux audio into the video segments instead of a separate audio rendition.") var muxAudio = false
    @Flag(help: "Show FFmpeg's messages.") var verbose = false

    func run() async throws {
        let logger = makeLogger(verbose: verbose)
        do {
            guard let format = segmentFormat == "ts" ? .mpegts : HLSConfiguration.SegmentFormat(rawValue: segmentFormat) else {
                throw VideoStackError(.invalidInput, "Unknown segment format '\(segmentFormat)'; use fmp4 or ts.")
            }
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try FileBlobStore(root: directory)
            let configuration = HLSConfiguration(segmentDuration: segment, segmentFormat: format, singleFile: singleFile)
            let started = ContinuousClock.now
            let result = try await Remuxer.package(file: file, store: store, directory: "", configuration: configuration,
                                                   separateAudio: !muxAudio, logger: logger)
            for rendition in result.renditions {
                print("\(rendition.playlistKey): \(rendition.segmentDurations.count) segments, \(rendition.codecs.joined(separator: ",")), peak \(rendition.peakBitRate / 1000) kb/s")
            }
            print(String(format: "%@: %d variants, done in %.2f s", result.masterKey, result.master.variants.count,
                         (ContinuousClock.now - started) / .seconds(1)))
        } catch {
            throw fail(error)
        }
    }
}
