internal import CFFmpeg
import Logging
import Synchronization
import VideoCore
internal import Foundation

/// The threads and FFmpeg objects of one running transcode.
///
/// One decoder thread demuxes, decodes, converts the frame rate, scales (each rung from the next
/// larger one) and encodes audio; one thread per video rung runs its x264 encoder. Bounded queues
/// join them, and a bounded channel carries the packets to the caller's task.
///
/// `@unchecked Sendable`: the input and decoders are used only by the decoder thread after set-up,
/// each rung's encoder only by its own thread (see `VideoRung`); shared state is atomic or in a `Mutex`.
final class TranscodeJob: @unchecked Sendable {
    let input: InputFile
    let renditions: [Rendition]
    let rungs: [VideoRung]
    let audio: AudioChain?
    /// Per rendition: its rung, and its audio encoder.
    let renditionRung: [Int?]
    let renditionAudio: [Int?]
    /// Per audio encoder: the renditions that carry its packets, with their audio track index.
    let audioTargets: [[(rendition: Int, track: Int)]]
    let output = OutputChannel<JobOutput>(capacity: 256)
    let cancel: CancelFlag
    let duration: Double

    private let videoDecoder: StreamDecoder?
    /// Readies every picture before the rungs scale it (deinterlacing, tone mapping, rotation).
    private let preparer: PicturePreparer?
    /// Picks the poster and the storyboard tiles from the same pictures.
    private let collector: ThumbnailCollector?
    /// The poster and storyboard, once the decoder thread has finished.
    private(set) var thumbnails: Thumbnails?
    /// Seconds between forced keyframes.
    let keyframeInterval: Double
    /// Seconds of the forced keyframes before the first multiple of the interval.
    let openingKeyframes: [Double]
    private let audioDecoder: StreamDecoder?
    private let configuration: TranscodeConfiguration
    private let logger: Logger
    private let decodedFrames = Atomic<Int>(0)
    private let mediaMilliseconds = Atomic<Int>(0)
    private let state = Mutex(State())
    private(set) var decodeErrors = 0

    private struct State {
        var failure: (any Error)?
        var running = 0
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// Opens the input and every encoder; nothing runs until ``start()``.
    ///
    /// - Parameters:
    ///   - keyframeInterval: the sink's keyframe spacing, 1 to 20 s.
    ///   - openingKeyframes: the sink's extra keyframes before the first multiple of the interval.
    init(url: URL, renditions: [Rendition], keyframeInterval: Duration, openingKeyframes: [Duration] = [],
         configuration: TranscodeConfiguration, logger: Logger, cancel: CancelFlag) throws {
        guard !renditions.isEmpty else {
            throw VideoStackError(.invalidInput, "No renditions were asked for; plan them with LadderPlanner.plan(for:).")
        }
        guard keyframeInterval >= .seconds(1) && keyframeInterval <= .seconds(20) else {
            throw VideoStackError(.invalidInput, "The sink asks for keyframes every \(keyframeInterval); the transcoder places them 1 to 20 seconds apart. Configure the sink's segment duration in that range.")
        }
        var previous = Duration.zero
        for time in openingKeyframes {
            guard time > previous, time < keyframeInterval else {
                throw VideoStackError(.invalidInput, "The sink asks for opening keyframes at \(openingKeyframes); they must be positive, strictly increasing and before the first multiple of its keyframe interval (\(keyframeInterval)).")
            }
            previous = time
        }
        self.keyframeInterval = keyframeInterval.inSeconds
        let openingSeconds = openingKeyframes.map(\.inSeconds)
        self.openingKeyframes = openingSeconds
        self.renditions = renditions
        self.configuration = configuration
        self.logger = logger
        self.cancel = cancel
        let name = url.lastPathComponent
        input = try InputFile(url: url, logger: logger, cancel: cancel, readTimeout: configuration.readTimeout)
        duration = input.durationSeconds

        let wantsVideo = renditions.contains { $0.hasVideo }
        let wantsAudio = renditions.contains { $0.hasAudio }
        let videoIndex = input.bestStream(AVMEDIA_TYPE_VIDEO)
        let audioIndex = wantsAudio ? input.bestStream(AVMEDIA_TYPE_AUDIO) : nil
        if wantsVideo && videoIndex == nil {
            throw VideoStackError(.invalidInput, "\(name) has no video stream but video renditions were asked for; plan with LadderPlanner.plan(for:) to get an audio-only rendition.")
        }
        if !wantsVideo && audioIndex == nil {
            throw VideoStackError(.invalidInput, "\(name) has no audio stream for the audio-only rendition.")
        }

        var sourceRate = AVRational(num: 30, den: 1)
        var color = VideoRung.ColorTags()
        if wantsVideo, let videoIndex {
            let stream = input.stream(videoIndex)
            let parameters = stream.pointee.codecpar.pointee
            let width = Int(parameters.width), height = Int(parameters.height)
            if width > configuration.maxWidth || height > configuration.maxHeight || width * height > configuration.maxPixels {
                throw VideoStackError(.limitExceeded, "\(name) declares a \(width)x\(height) picture, larger than the \(configuration.maxWidth)x\(configuration.maxHeight) (\(configuration.maxPixels) pixels) this service accepts; export it at a smaller size.")
            }
            if width <= 0 || height <= 0 {
                throw VideoStackError(.corrupt, "\(name) declares no picture size for its video; the file is damaged.")
            }
            let average = stream.pointee.avg_frame_rate, real = stream.pointee.r_frame_rate
            if average.num > 0 && average.den > 0 && av_q2d(average) < 1000 {
                sourceRate = average
            } else if real.num > 0 && real.den > 0 && av_q2d(real) < 1000 {
                sourceRate = real
            }
            while av_q2d(sourceRate) > configuration.maxFrameRate + 0.01 {
                sourceRate = av_mul_q(sourceRate, AVRational(num: 1, den: 2))
            }
            let decoder = try StreamDecoder(input: input, streamIndex: videoIndex, threads: configuration.decoderThreads, logger: logger)
            videoDecoder = decoder
            let plan = PictureFilter.Plan(stream: stream)
            preparer = PicturePreparer(plan: plan, timeBase: decoder.timeBase)
            color = plan.toneMap != nil ? .bt709
                : VideoRung.ColorTags(primaries: parameters.color_primaries, transfer: parameters.color_trc, space: parameters.color_space)
            let declared = input.durationSeconds
            collector = try configuration.thumbnails.map {
                try ThumbnailCollector(configuration: $0, displaySize: MediaProbe.displaySize(of: stream),
                                       declaredDuration: declared, logger: logger)
            }
        } else {
            videoDecoder = nil
            preparer = nil
            collector = nil
        }

        // Rungs largest first, so each can scale from the one before it.
        let videoRenditions = renditions.indices.filter { renditions[$0].hasVideo }
            .sorted { renditions[$0].width * renditions[$0].height > renditions[$1].width * renditions[$1].height }
        let totalPixels = videoRenditions.reduce(0) { $0 + renditions[$1].width * renditions[$1].height }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var rungs: [VideoRung] = []
        var renditionRung = [Int?](repeating: nil, count: renditions.count)
        for renditionIndex in videoRenditions {
            let rendition = renditions[renditionIndex]
            guard rendition.width % 2 == 0, rendition.height % 2 == 0, rendition.width <= configuration.maxWidth,
                  rendition.height <= configuration.maxHeight else {
                throw VideoStackError(.invalidInput, "Rendition \(rendition.name) is \(rendition.width)x\(rendition.height); widths and heights must be even and within \(configuration.maxWidth)x\(configuration.maxHeight).")
            }
            var rate = sourceRate
            if let wanted = rendition.frameRate, wanted > 0, abs(wanted - av_q2d(sourceRate)) > 0.01 {
                rate = av_d2q(min(wanted, configuration.maxFrameRate), 1_001_000)
            }
            // Share the cores by pixel count: x264's work grows with it. x264's own default is 1.5 threads per core.
            let share = Double(rendition.width * rendition.height) / Double(max(1, totalPixels))
            let threads = configuration.encoderThreads ?? max(1, Int((share * Double(cores) * 1.5).rounded()))
            renditionRung[renditionIndex] = rungs.count
            rungs.append(try VideoRung(index: rungs.count, rendition: rendition, frameRate: rate, threads: threads, color: color,
                                       keyframeInterval: keyframeInterval.inSeconds, openingKeyframes: openingSeconds,
                                       configuration: configuration, logger: logger))
        }
        self.rungs = rungs
        self.renditionRung = renditionRung

        var renditionAudio = [Int?](repeating: nil, count: renditions.count)
        if let audioIndex {
            let bitRates = Array(Set(renditions.filter(\.hasAudio).map(\.audioBitRate))).sorted(by: >)
            audio = try AudioChain(bitRates: bitRates, sampleRate: configuration.audioSampleRate, logger: logger)
            audioDecoder = try StreamDecoder(input: input, streamIndex: audioIndex, threads: 1, logger: logger)
            var targets = [[(rendition: Int, track: Int)]](repeating: [], count: bitRates.count)
            for (index, rendition) in renditions.enumerated() where rendition.hasAudio {
                let encoder = bitRates.firstIndex(of: rendition.audioBitRate)!
                renditionAudio[index] = encoder
                targets[encoder].append((index, rendition.hasVideo ? 1 : 0))
            }
            audioTargets = targets
        } else {
            audio = nil
            audioDecoder = nil
            audioTargets = []
        }
        self.renditionAudio = renditionAudio
    }

    /// The tracks of rendition `index`: video first, then audio.
    func tracks(of index: Int) -> [TrackFormat] {
        var tracks: [TrackFormat] = []
        if let rung = renditionRung[index] { tracks.append(rungs[rung].track) }
        if let encoder = renditionAudio[index], let audio { tracks.append(audio.tracks[encoder]) }
        return tracks
    }

    /// The renditions with their codec strings filled in.
    var encodedRenditions: [Rendition] {
        renditions.indices.map { index in
            var rendition = renditions[index]
            let codecs = tracks(of: index).compactMap(\.codecString)
            rendition.codecs = codecs.isEmpty ? nil : codecs.joined(separator: ",")
            if rendition.hasVideo, rendition.frameRate == nil, let rung = renditionRung[index] {
                rendition.frameRate = av_q2d(rungs[rung].frameRate)
            }
            if audio == nil { rendition.audioBitRate = 0 }
            return rendition
        }
    }

    /// Starts the decoder thread and one encoder thread per rung.
    func start() {
        state.withLock { $0.running = rungs.count + 1 }
        spawn(name: "videostack-decode") { try self.decodeAll() }
        for rung in rungs {
            spawn(name: "videostack-x264-\(rung.rendition.name)") { try rung.encodeAll(output: self.output, cancel: self.cancel) }
        }
    }

    private func spawn(name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread {
            do {
                try body()
            } catch {
                self.fail(error)
            }
            self.threadEnded()
        }
        thread.name = name
        // x264 and the decoders run on the calling thread when they have no threads of their
        // own, and want the usual 8 MB stack.
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func threadEnded() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.running -= 1
            guard state.running == 0 else { return nil }
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        if state.withLock({ $0.finished }) { output.close() }
        waiter?.resume()
    }

    /// Waits until every thread has ended (after success, failure or cancellation).
    func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.finished || state.running == 0 { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// The first error any thread hit.
    var failure: (any Error)? { state.withLock { $0.failure } }

    /// Records the first error and stops everything.
    func fail(_ error: any Error) {
        state.withLock { if $0.failure == nil { $0.failure = error } }
        stop()
    }

    /// Stops every thread within about one frame's work; they free what they hold as they end.
    func stop() {
        cancel.cancel()
        for rung in rungs { rung.queue.cancel() }
        output.cancel()
    }

    /// Media seconds and frames decoded so far, for progress.
    var progress: (seconds: Double, frames: Int) {
        (Double(mediaMilliseconds.load(ordering: .relaxed)) / 1000, decodedFrames.load(ordering: .relaxed))
    }

    // MARK: Decoder thread

    private var lastVideoSeconds = -1.0
    /// Seconds taken off every later video timestamp after a damaged jump forward.
    private var videoTimelineShift = 0.0
    /// The longest gap between two video frames taken at face value; a longer jump is damage
    /// (filling it would encode a repeated frame per slot without bound).
    static let largestVideoGap = 10.0
    /// The latest start audio may claim relative to the video; later is damage.
    static let latestAudioStart = 60.0

    private func decodeAll() throws {
        let packet = Packet()
        let origin = input.startSeconds
        while !cancel.isCancelled {
            let more: Bool
            do {
                more = try input.read(into: packet, timeout: configuration.readTimeout)
            } catch let error as VideoStackError where error.code == .corrupt {
                // Like a player: a read error in the middle ends the input; what came before is kept.
                logger.warning("Input ended early: \(error.message)")
                decodeErrors += 1
                break
            }
            guard more else { break }
            defer { packet.unref() }
            if let decoder = videoDecoder, packet.streamIndex == decoder.streamIndex {
                try decoder.decode(packet) { frame in try self.handleVideo(frame, decoder: decoder, origin: origin) }
            } else if let decoder = audioDecoder, packet.streamIndex == decoder.streamIndex {
                try decoder.decode(packet) { frame in try self.handleAudio(frame, decoder: decoder, origin: origin) }
            }
        }
        if cancel.isCancelled { return }
        if let decoder = videoDecoder {
            try decoder.decode(nil) { frame in try self.handleVideo(frame, decoder: decoder, origin: origin) }
            try preparer?.flush { frame in try self.deliverVideo(frame, decoder: decoder, origin: origin) }
        }
        if let decoder = audioDecoder {
            try decoder.decode(nil) { frame in try self.handleAudio(frame, decoder: decoder, origin: origin) }
        }
        if cancel.isCancelled { return }
        for rung in rungs { try rung.finish(source: rungs) }
        try audio?.finish(output: output)
        decodeErrors += (videoDecoder?.decodeErrors ?? 0) + (audioDecoder?.decodeErrors ?? 0)
        if let collector {
            // The end of the last frame encoded: where the output, and so the last cue, ends.
            thumbnails = try collector.finish(end: outputDuration)
        }
    }

    /// Seconds of output: the end of the first rung's last frame, or of the audio without video.
    var outputDuration: Double {
        if let first = rungs.first { return Double(first.lastSlot + 1) * first.frameDuration }
        return audio?.endSeconds ?? 0
    }

    private func handleVideo(_ frame: Frame, decoder: StreamDecoder, origin: Double) throws {
        if cancel.isCancelled { return }
        let width = frame.width, height = frame.height
        if width > configuration.maxWidth || height > configuration.maxHeight || width * height > configuration.maxPixels {
            throw VideoStackError(.limitExceeded, "A \(width)x\(height) frame is larger than this service accepts; export the video at a smaller size.")
        }
        try preparer!.prepare(frame) { try deliverVideo($0, decoder: decoder, origin: origin) }
    }

    /// Places a finished picture on the timeline and hands it to the rungs.
    private func deliverVideo(_ frame: Frame, decoder: StreamDecoder, origin: Double) throws {
        if cancel.isCancelled { return }
        let stamp = frame.pointer.pointee.pts
        let frameDuration = rungs.first?.frameDuration ?? 1.0 / 30
        var seconds = stamp == noPTS ? lastVideoSeconds + frameDuration : decoder.seconds(stamp) - origin - videoTimelineShift
        if !seconds.isFinite || seconds < 0 { seconds = max(0, lastVideoSeconds + frameDuration) }
        if lastVideoSeconds >= 0 && seconds > lastVideoSeconds + Self.largestVideoGap {
            // A damaged timestamp (or a splice) jumps far ahead: close the gap, count it, carry on.
            decodeErrors += 1
            logger.warning("Video timestamps jump \(Int(seconds - lastVideoSeconds)) s ahead; treating the jump as damage and continuing the timeline")
            videoTimelineShift += seconds - (lastVideoSeconds + frameDuration)
            seconds = lastVideoSeconds + frameDuration
        } else if lastVideoSeconds < 0 && seconds > Self.largestVideoGap {
            decodeErrors += 1
            seconds = 0
        }
        lastVideoSeconds = seconds
        try collector?.accept(frame, seconds: seconds)
        let picture = SourcePicture(frame.clone())
        for rung in rungs {
            guard try rung.accept(picture, seconds: seconds, source: rungs) else { return }
        }
        decodedFrames.add(1, ordering: .relaxed)
        mediaMilliseconds.store(Int(seconds * 1000), ordering: .relaxed)
    }

    private func handleAudio(_ frame: Frame, decoder: StreamDecoder, origin: Double) throws {
        guard let audio, !cancel.isCancelled else { return }
        let stamp = frame.pointer.pointee.best_effort_timestamp
        var seconds = stamp == noPTS ? 0 : decoder.seconds(stamp) - origin
        // Only the first audio frame's time is used (to place the start); a damaged one must not
        // turn into hours of silence or overflow a sample count.
        if !seconds.isFinite || seconds > Self.latestAudioStart {
            if audio.endSeconds == 0 { decodeErrors += 1 }
            seconds = 0
        }
        _ = try audio.accept(frame, seconds: seconds, output: output)
        if videoDecoder == nil { mediaMilliseconds.store(Int(audio.endSeconds * 1000), ordering: .relaxed) }
    }
}
