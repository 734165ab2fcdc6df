import ArgumentParser
import Foundation
import HLSPackager
import Logging
import TranscodePipeline
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
            let configuration = HLSConfiguration(segmentDuration: .seconds(segment), segmentFormat: format, singleFile: singleFile,
                                                 separateAudio: !muxAudio)
            let started = ContinuousClock.now
            let result = try await Self.remux(URL(fileURLWithPath: file), store: store, configuration: configuration, logger: logger)
            for rendition in result.renditions {
                print("\(rendition.playlistKey): \(rendition.segmentDurations.count) segments, \(rendition.codecs.joined(separator: ",")), peak \(rendition.peakBitRate / 1000) kb/s")
            }
            print(String(format: "%@: %d variants, done in %.2f s", result.masterKey, result.master.variants.count,
                         (ContinuousClock.now - started) / .seconds(1)))
        } catch {
            throw fail(error)
        }
    }

    /// MP4/MOV (an `ftyp` box first) through the Swift reader; anything else, and fragmented MP4
    /// the Swift reader declines, through FFmpeg's demuxer as a packet source.
    static func remux(_ url: URL, store: FileBlobStore, configuration: HLSConfiguration, logger: Logger) async throws -> HLSPackageResult {
        let head = (try? FileHandle(forReadingFrom: url).read(upToCount: 8)) ?? Data()
        if head.count == 8 && head.suffix(4) == Data("ftyp".utf8) {
            do {
                return try await Remuxer.package(file: url, store: store, directory: "", configuration: configuration, logger: logger)
            } catch let error as VideoStackError where error.code == .unsupported {
                logger.debug("The MP4 reader declined the file; using FFmpeg's demuxer", metadata: ["reason": "\(error.message)"])
            }
        }
        let demuxer = try await Demuxer.open(url, logger: logger)
        return try await Remuxer.package(source: demuxer, store: store, directory: "", configuration: configuration, logger: logger)
    }
}
