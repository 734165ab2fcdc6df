internal import CFFmpeg
public import Foundation
public import Logging
import VideoCore

extension MediaProbe {
    /// Reads and decodes the whole file, reporting damage and truncation.
    ///
    /// A file whose index sits at the front and whose data was cut short still opens and still
    /// declares its full duration; only the last timestamp read reveals it. Bit errors are
    /// concealed by the decoders; they are counted from the frames' error flags, rejected
    /// packets and logged errors. Decoding runs on a thread of its own; cancelling the task stops it.
    ///
    /// - Throws: the errors of ``probe(_:logger:)`` when the file does not open at all, `.cancelled`.
    public static func deepCheck(_ url: URL, logger: Logger) async throws -> IntegrityReport {
        let cancel = CancelFlag()
        return try await runOnOwnThread(name: "videostack-deepcheck", cancel: cancel) {
            let input = try InputFile(url: url, logger: logger, cancel: cancel)
            var decoders: [Int: StreamDecoder] = [:]
            for index in [input.bestStream(AVMEDIA_TYPE_VIDEO), input.bestStream(AVMEDIA_TYPE_AUDIO)].compactMap({ $0 }) {
                decoders[index] = try StreamDecoder(input: input, streamIndex: index, logger: logger)
            }
            let start = input.startSeconds
            var lastEnd = 0.0
            var problems: [String] = []
            let packet = Packet()
            while true {
                if cancel.isCancelled { throw VideoStackError(.cancelled, "The check was cancelled.") }
                let more: Bool
                do {
                    more = try input.read(into: packet)
                } catch let error as VideoStackError where error.code == .corrupt {
                    problems.append("Reading stopped with an error at \(String(format: "%.2f", lastEnd)) s: \(error.message)")
                    break
                }
                guard more else { break }
                defer { packet.unref() }
                guard let decoder = decoders[packet.streamIndex] else { continue }
                let p = packet.pointer.pointee
                let stamp = p.pts != noPTS ? p.pts : p.dts
                if stamp != noPTS {
                    lastEnd = max(lastEnd, decoder.seconds(stamp + max(0, p.duration)) - start)
                }
                try decoder.decode(packet) { _ in }
            }
            for decoder in decoders.values { try decoder.decode(nil) { _ in } }
            let declared = input.durationSeconds
            let videoIndex = input.bestStream(AVMEDIA_TYPE_VIDEO)
            let audioIndex = input.bestStream(AVMEDIA_TYPE_AUDIO)
            let errors = decoders.values.reduce(0) { $0 + $1.decodeErrors }
            let logged = decoders.values.reduce(0) { $0 + $1.codec.loggedErrors }
            // Up to a fifth of a second short is ordinary (the last frame's duration, audio padding).
            let truncated = declared > 0 && declared - lastEnd > 0.2
            if truncated {
                problems.append(String(format: "The data ends at %.2f s but the file declares %.2f s: it was cut short; upload it again.", lastEnd, declared))
            }
            if errors > 0 || logged > 0 {
                problems.append("\(max(errors, logged)) damaged packets or frames were decoded with concealment; the file is corrupt in places.")
            }
            return IntegrityReport(declaredDuration: .seconds(declared), lastTimestamp: .seconds(lastEnd),
                                   videoFrames: videoIndex.flatMap { decoders[$0]?.frames } ?? 0,
                                   audioFrames: audioIndex.flatMap { decoders[$0]?.frames } ?? 0,
                                   decodeErrors: errors, loggedErrors: logged, isTruncated: truncated, problems: problems)
        }
    }
}
