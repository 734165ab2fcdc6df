// The `videostack` command-line tool: probe a media file, transcode it to an ABR ladder.
import ArgumentParser
import Foundation
import HLSPackager
import Logging
import TranscodePipeline
import VideoCore

@main
struct VideoStackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videostack",
        abstract: "Probe and transcode videos with VideoStack.",
        subcommands: [Probe.self, Transcode.self, PackageCommand.self]
    )
}

/// Prints `videostack: <reason>` on one line and exits non-zero.
func fail(_ error: any Error) -> ExitCode {
    let reason = (error as? VideoStackError).map { "\($0.message) [\($0.code)]" } ?? String(describing: error)
    FileHandle.standardError.write(Data("videostack: \(reason.replacingOccurrences(of: "\n", with: " "))\n".utf8))
    return ExitCode(1)
}

func makeLogger(verbose: Bool) -> Logger {
    var logger = Logger(label: "videostack") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = verbose ? .debug : .error
    return logger
}

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what a media file holds.")

    @Argument(help: "The media file.") var file: String
    @Flag(help: "Print JSON: format, duration (seconds), streams with type, codec and size/rate or sample rate/channels.")
    var json = false
    @Flag(help: "Also decode the whole file and report damage and truncation.") var deep = false
    @Flag(help: "Show FFmpeg's messages.") var verbose = false

    func run() async throws {
        let logger = makeLogger(verbose: verbose)
        let url = URL(fileURLWithPath: file)
        do {
            let info = try await MediaProbe.probe(url, logger: logger)
            let report = deep ? try await MediaProbe.deepCheck(url, logger: logger) : nil
            if json {
                var object = Self.jsonObject(info)
                if let report {
                    object["integrity"] = ["intact": report.isIntact, "truncated": report.isTruncated,
                                           "lastTimestamp": report.lastTimestamp.inSeconds, "decodeErrors": report.decodeErrors,
                                           "problems": report.problems] as [String: Any]
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(Self.text(info))
                if let report {
                    print(report.isIntact ? "integrity: intact" : "integrity: " + report.problems.joined(separator: " "))
                }
            }
        } catch {
            throw fail(error)
        }
    }

    static func jsonObject(_ info: MediaInfo) -> [String: Any] {
        var streams: [[String: Any]] = []
        for stream in info.streams {
            var object: [String: Any] = ["index": stream.index, "type": stream.kind.rawValue, "codec": stream.codec]
            object["profile"] = stream.profile
            object["bitRate"] = stream.bitRate
            object["language"] = stream.language
            if stream.kind == .video {
                object["width"] = stream.width
                object["height"] = stream.height
                object["frameRate"] = (stream.averageFrameRate ?? stream.realFrameRate)?.doubleValue
                object["pixelFormat"] = stream.pixelFormat
                object["bitDepth"] = stream.bitDepth
                object["rotation"] = stream.rotation
                object["hdr"] = stream.isHDR
                object["interlaced"] = stream.isInterlaced
                object["variableFrameRate"] = stream.isVariableFrameRate
                if let dar = stream.displayAspectRatio { object["displayAspectRatio"] = dar.description }
            } else if stream.kind == .audio {
                object["sampleRate"] = stream.sampleRate
                object["channels"] = stream.channels
                object["channelLayout"] = stream.channelLayout
            }
            streams.append(object)
        }
        var object: [String: Any] = ["format": info.format, "duration": info.duration.inSeconds, "bitRate": info.bitRate, "streams": streams]
        object["size"] = info.size
        return object
    }

    static func text(_ info: MediaInfo) -> String {
        var lines = [String(format: "format: %@, duration %.3f s, %d kb/s", info.format, info.duration.inSeconds, info.bitRate / 1000)]
        for stream in info.streams {
            var line = "stream \(stream.index): \(stream.kind.rawValue) \(stream.codec)"
            if let profile = stream.profile { line += " (\(profile))" }
            if let width = stream.width, let height = stream.height { line += " \(width)x\(height)" }
            if let rate = stream.averageFrameRate { line += String(format: " %.3f fps", rate.doubleValue) }
            if let rate = stream.sampleRate { line += " \(rate) Hz" }
            if let channels = stream.channels { line += " \(channels) ch" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

struct Transcode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Transcode a video to an adaptive-bitrate ladder.")

    @Argument(help: "The source video.") var file: String
    @Option(help: "Output directory (created if missing).") var out: String
    @Option(help: "Comma-separated rungs of the standard ladder, e.g. 1080p,720p,360p (default: all that fit the source).")
    var ladder: String?
    @Option(help: "Output format: hls (DIR/master.m3u8 with a directory per rendition, fMP4 segments) or mp4 (one file per rendition, named by its height, e.g. 720p.mp4).")
    var format = "hls"
    @Option(help: "Seconds between forced keyframes (segment boundaries).") var segment: Double = 4
    @Option(help: "x264 preset: \(X264Preset.all.map(\.name).joined(separator: ", ")).") var preset = "veryfast"
    @Flag(help: "Skip the poster and storyboard.") var noThumbnails = false
    @Flag(help: "Show FFmpeg's messages.") var verbose = false

    func run() async throws {
        let logger = makeLogger(verbose: verbose)
        do {
            guard format == "mp4" || format == "hls" else {
                throw VideoStackError(.unsupported, "The format '\(format)' is not available; use --format hls or --format mp4.")
            }
            let input = URL(fileURLWithPath: file)
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var chosen = Ladder.standard
            if let ladder {
                let names = ladder.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let known = Dictionary(uniqueKeysWithValues: Ladder.standard.renditions.map { ($0.name, $0) })
                let rungs = try names.map { name -> Rendition in
                    guard let rung = known[name] else {
                        throw VideoStackError(.invalidInput, "Unknown rung '\(name)'; choose from \(Ladder.standard.renditions.map(\.name).joined(separator: ", ")).")
                    }
                    return rung
                }
                chosen = Ladder(rungs)
            }
            guard let x264Preset = X264Preset(name: preset) else {
                throw VideoStackError(.invalidInput, "x264 has no preset '\(preset)'; choose from \(X264Preset.all.map(\.name).joined(separator: ", ")).")
            }
            let info = try await MediaProbe.probe(input, logger: logger)
            let renditions = try LadderPlanner.plan(for: info, ladder: chosen)
            let segmentDuration = Duration.seconds(segment)
            let mp4Sink = format == "mp4" ? try MP4FileSink(directory: directory, keyframeInterval: segmentDuration, logger: logger,
                                                            fileName: { $0.hasVideo ? "\($0.height)p.mp4" : "audio.mp4" }) : nil
            // HLS: EVENT playlists while the transcode runs, so DIR/master.m3u8 plays before it ends; VOD at the end.
            let hlsSink = format == "hls" ? HLSSink(store: try FileBlobStore(root: directory), directory: "",
                                                    configuration: HLSConfiguration(segmentDuration: segmentDuration, mode: .event), logger: logger) : nil
            let sink: any PacketSink = mp4Sink ?? hlsSink!
            // The poster and storyboard come from the transcode's own decode of the file.
            let configuration = TranscodeConfiguration(preset: x264Preset, thumbnails: noThumbnails ? nil : ThumbnailConfiguration())
            let transcoder = Transcoder(configuration: configuration, logger: logger)
            let (stream, continuation) = AsyncStream.makeStream(of: TranscodeProgress.self, bufferingPolicy: .bufferingNewest(1))
            let reporter = Task { await Self.report(stream) }
            let result: TranscodeResult
            do {
                result = try await transcoder.transcode(input: input, renditions: renditions, sink: sink, progress: continuation)
            } catch {
                continuation.finish()
                await reporter.value
                throw error
            }
            await reporter.value
            if let hlsSink, let package = await hlsSink.result {
                for rendition in package.renditions {
                    print("\(rendition.playlistKey): \(rendition.segmentDurations.count) segments, \(rendition.codecs.joined(separator: ",")), peak \(rendition.peakBitRate / 1000) kb/s")
                }
                print("\(package.masterKey): \(package.master.variants.count) variants")
            }
            for (index, rendition) in result.renditions.enumerated() where mp4Sink != nil {
                let name = mp4Sink?.writtenFiles[index]?.lastPathComponent ?? rendition.name
                print("\(name): \(rendition.hasVideo ? "\(rendition.width)x\(rendition.height) " : "")\(rendition.codecs ?? "")")
            }
            if let thumbnails = result.thumbnails {
                for file in thumbnails.files {
                    let url = directory.appendingPathComponent(file.name)
                    do {
                        try Data(file.bytes).write(to: url, options: .atomic)
                    } catch {
                        throw VideoStackError(.io, "Could not write \(url.path); check that the directory is writable.", cause: ErrorDescription(error))
                    }
                }
                print(String(format: "poster.jpg: frame at %.2f s", thumbnails.poster.time.inSeconds))
                print("\(thumbnails.storyboard.spriteName), storyboard.vtt: \(thumbnails.storyboard.tileCount) tiles")
            }
            print(String(format: "done in %.1f s (%.1f s of media)", result.elapsed.inSeconds, result.duration.inSeconds))
        } catch {
            throw fail(error)
        }
    }

    /// A progress bar on a terminal, plain lines otherwise (logs, CI).
    static func report(_ stream: AsyncStream<TranscodeProgress>) async {
        let terminal = isatty(STDERR_FILENO) != 0
        var lastLine = -1
        for await progress in stream {
            // Inputs that declare no duration (Matroska from a pipe) report media time only.
            guard let fraction = progress.fraction else {
                let line = String(format: "progress %.1f s of media %.1f fps", progress.mediaTime.inSeconds, progress.framesPerSecond)
                FileHandle.standardError.write(Data((terminal ? "\r" + line + "   " : line + "\n").utf8))
                continue
            }
            let percent = Int(fraction * 100)
            let eta = progress.estimatedTimeLeft.map { String(format: "%.0f s left", $0.inSeconds) } ?? "…"
            if terminal {
                let filled = percent * 30 / 100
                let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
                FileHandle.standardError.write(Data(String(format: "\r[%@] %3d%% %5.1f fps %@   ", bar, percent, progress.framesPerSecond, eta).utf8))
            } else if percent / 10 != lastLine {
                lastLine = percent / 10
                FileHandle.standardError.write(Data(String(format: "progress %d%% %.1f fps %@\n", percent, progress.framesPerSecond, eta).utf8))
            }
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
