internal import CFFmpeg
public import Foundation
public import Logging
public import VideoCore

/// Reads what a media file holds: container, duration, and per-stream codec, geometry, timing,
/// colour and audio layout. FFmpeg runs on a thread of its own; the methods are safe to call
/// concurrently.
public enum MediaProbe {
    /// Probes `url` (a local file or anything FFmpeg can open) without decoding the whole file.
    ///
    /// - Throws: `VideoStackError` `.notFound` (no such file), `.invalidInput` (empty file),
    ///   `.corrupt` (not media, or damaged), `.unsupported` (a text file), `.io` (stalled read),
    ///   `.cancelled` (the task was cancelled).
    public static func probe(_ url: URL, logger: Logger) async throws -> MediaInfo {
        let cancel = CancelFlag()
        return try await runOnOwnThread(name: "videostack-probe", cancel: cancel) {
            let input = try InputFile(url: url, logger: logger, cancel: cancel)
            return mediaInfo(of: input)
        }
    }

    /// Builds the `MediaInfo` of an opened input.
    static func mediaInfo(of input: InputFile) -> MediaInfo {
        let context = input.context.pointee
        var streams: [StreamInfo] = []
        for index in 0..<input.streamCount {
            streams.append(streamInfo(input.stream(index)))
        }
        var size: Int64?
        if let io = context.pb {
            let bytes = avio_size(io)
            if bytes >= 0 { size = bytes }
        }
        return MediaInfo(format: String(cString: context.iformat.pointee.name), duration: .seconds(input.durationSeconds),
                         bitRate: Int(max(0, context.bit_rate)), size: size, streams: streams)
    }

    static func streamInfo(_ stream: UnsafeMutablePointer<AVStream>) -> StreamInfo {
        let parameters = stream.pointee.codecpar.pointee
        let kind: StreamInfo.Kind
        switch parameters.codec_type {
        case AVMEDIA_TYPE_VIDEO: kind = .video
        case AVMEDIA_TYPE_AUDIO: kind = .audio
        case AVMEDIA_TYPE_SUBTITLE: kind = .subtitle
        case AVMEDIA_TYPE_DATA: kind = .data
        case AVMEDIA_TYPE_ATTACHMENT: kind = .attachment
        default: kind = .unknown
        }
        var info = StreamInfo(index: Int(stream.pointee.index), kind: kind,
                              codec: String(cString: avcodec_get_name(parameters.codec_id)))
        if let name = avcodec_profile_name(parameters.codec_id, parameters.profile) {
            info.profile = String(cString: name)
        }
        if parameters.level > 0 { info.level = Int(parameters.level) }
        if parameters.bit_rate > 0 { info.bitRate = Int(parameters.bit_rate) }
        if stream.pointee.duration != noPTS, stream.pointee.duration > 0 {
            info.duration = .seconds(Double(stream.pointee.duration) * av_q2d(stream.pointee.time_base))
        }
        if let entry = av_dict_get(stream.pointee.metadata, "language", nil, 0), let value = entry.pointee.value {
            let language = String(cString: value)
            if language != "und" { info.language = language }
        }
        switch kind {
        case .video:
            info.isAttachedPicture = stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
            info.width = Int(parameters.width)
            info.height = Int(parameters.height)
            var sar = parameters.sample_aspect_ratio
            if stream.pointee.sample_aspect_ratio.num > 0 { sar = stream.pointee.sample_aspect_ratio }
            if sar.num > 0, sar.den > 0, sar.num != sar.den {
                info.sampleAspectRatio = Rational(Int(sar.num), Int(sar.den))
            }
            if parameters.width > 0, parameters.height > 0 {
                var dar = AVRational()
                let sarNum = sar.num > 0 && sar.den > 0 ? sar.num : 1
                let sarDen = sar.num > 0 && sar.den > 0 ? sar.den : 1
                av_reduce(&dar.num, &dar.den, Int64(parameters.width) * Int64(sarNum),
                          Int64(parameters.height) * Int64(sarDen), 1 << 20)
                info.displayAspectRatio = Rational(Int(dar.num), Int(dar.den))
            }
            let average = stream.pointee.avg_frame_rate
            let real = stream.pointee.r_frame_rate
            if average.num > 0, average.den > 0 { info.averageFrameRate = Rational(Int(average.num), Int(average.den)) }
            if real.num > 0, real.den > 0 { info.realFrameRate = Rational(Int(real.num), Int(real.den)) }
            if average.num > 0, real.num > 0 {
                // r_frame_rate is the rate that represents every timestamp; when the average
                // differs by more than rounding, frames come at irregular intervals.
                let ratio = av_q2d(average) / av_q2d(real)
                info.isVariableFrameRate = abs(1 - ratio) > 0.01
            }
            let format = AVPixelFormat(rawValue: parameters.format)
            if let name = av_get_pix_fmt_name(format) {
                info.pixelFormat = String(cString: name)
            }
            if let descriptor = av_pix_fmt_desc_get(format) {
                info.bitDepth = Int(descriptor.pointee.comp.0.depth)
            }
            if let name = av_color_transfer_name(parameters.color_trc) {
                info.colorTransfer = String(cString: name)
            }
            info.isHDR = parameters.color_trc == AVCOL_TRC_SMPTE2084 || parameters.color_trc == AVCOL_TRC_ARIB_STD_B67
            info.rotation = rotation(of: stream)
            switch parameters.field_order {
            case AV_FIELD_UNKNOWN: info.isInterlaced = nil
            case AV_FIELD_PROGRESSIVE: info.isInterlaced = false
            default: info.isInterlaced = true
            }
        case .audio:
            info.sampleRate = Int(parameters.sample_rate)
            var layout = parameters.ch_layout
            info.channels = Int(layout.nb_channels)
            var buffer = [CChar](repeating: 0, count: 64)
            if av_channel_layout_describe(&layout, &buffer, buffer.count) > 0 {
                info.channelLayout = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        default:
            break
        }
        return info
    }

    /// The pictures' size as a player shows them: the sample aspect ratio (the container's, else
    /// the codec's) applied to the width, and width and height swapped when turned by 90°.
    static func displaySize(of stream: UnsafeMutablePointer<AVStream>) -> (width: Int, height: Int) {
        let parameters = stream.pointee.codecpar.pointee
        var sar = stream.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = parameters.sample_aspect_ratio }
        var width = Double(parameters.width)
        if sar.num > 0, sar.den > 0 { width *= Double(sar.num) / Double(sar.den) }
        let size = (width: Int(width.rounded()), height: Int(parameters.height))
        return rotation(of: stream) % 180 == 90 ? (size.height, size.width) : size
    }

    /// Clockwise degrees (0, 90, 180, 270) a player applies, from the stream's display matrix.
    static func rotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return 0 }
        let counterclockwise = matrix.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard counterclockwise.isFinite else { return 0 }
        let clockwise = ((Int((-counterclockwise).rounded()) % 360) + 360) % 360
        return (clockwise + 45) / 90 * 90 % 360
    }
}
