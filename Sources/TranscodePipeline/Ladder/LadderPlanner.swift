public import VideoCore

/// Fits an adaptive-bitrate ladder to a source: which renditions to encode, at what size, rate and bit rate.
///
/// Pure computation, safe from any thread.
public enum LadderPlanner {
    /// Plans the renditions for a probed source.
    ///
    /// - Never upscales: a rung whose short side exceeds the source's is left out (a source
    ///   smaller than every rung gets one rendition at its own size).
    /// - Keeps the display aspect ratio, with the sample aspect ratio and rotation applied, so a
    ///   portrait phone video gives portrait renditions whose short side is the rung's height.
    /// - Dimensions are even (4:2:0 needs it); frame rates above `maxFrameRate` are halved until they fit.
    /// - Bit rates follow the rung's, scaled by the rendition's pixel count against the rung's
    ///   nominal one (within ½× to 1½×) and by 1.5× above 31 fps.
    /// - An audio-only source gives one rendition named `"audio"`; a silent source gives renditions without audio.
    ///
    /// - Throws: `.invalidInput` when the source has neither a video nor an audio stream, or a
    ///   video stream with no usable size.
    public static func plan(for info: MediaInfo, ladder: Ladder = .standard, maxFrameRate: Double = 60) throws -> [Rendition] {
        let topAudio = ladder.renditions.map(\.audioBitRate).max() ?? 128_000
        guard let video = info.video else {
            guard info.audio != nil else {
                throw VideoStackError(.invalidInput, "The file has neither a video nor an audio stream; there is nothing to transcode.")
            }
            return [Rendition(name: "audio", width: 0, height: 0, videoBitRate: 0, audioBitRate: max(topAudio, 64_000))]
        }
        guard let display = video.displaySize else {
            throw VideoStackError(.invalidInput, "The video stream declares no picture size; the file is damaged.")
        }
        let hasAudio = info.audio != nil
        let frameRate = cappedFrameRate(video, maxFrameRate: maxFrameRate)
        let landscape = display.width >= display.height
        let sourceShort = landscape ? display.height : display.width
        let aspect = Double(display.width) / Double(display.height)

        var planned: [Rendition] = []
        for rung in ladder.renditions where rung.hasVideo {
            let short = min(rung.height, rung.width)
            guard short <= sourceShort else { continue }
            planned.append(fit(rung, short: short, aspect: aspect, landscape: landscape, frameRate: frameRate, hasAudio: hasAudio))
        }
        if planned.isEmpty, let smallest = ladder.renditions.filter(\.hasVideo).last {
            var own = fit(smallest, short: sourceShort, aspect: aspect, landscape: landscape, frameRate: frameRate, hasAudio: hasAudio)
            own.name = "\(even(sourceShort))p"
            planned.append(own)
        }
        if planned.isEmpty && hasAudio {
            planned.append(Rendition(name: "audio", width: 0, height: 0, videoBitRate: 0, audioBitRate: topAudio))
        }
        return planned
    }

    private static func fit(_ rung: Rendition, short: Int, aspect: Double, landscape: Bool, frameRate: Double?,
                            hasAudio: Bool) -> Rendition {
        let long = even(Int((Double(short) * (landscape ? aspect : 1 / aspect)).rounded()))
        let width = landscape ? long : even(short)
        let height = landscape ? even(short) : long
        let nominal = Double(max(1, rung.width * rung.height))
        var scale = min(1.5, max(0.5, Double(width * height) / nominal))
        if let frameRate, frameRate > 31 { scale *= 1.5 }
        let bitrate = Int(Double(rung.videoBitRate) * scale)
        let ratio = rung.videoBitRate > 0 ? Double(bitrate) / Double(rung.videoBitRate) : 1
        return Rendition(name: rung.name, width: width, height: height, videoBitRate: bitrate,
                         maxBitRate: Int(Double(rung.maxBitRate) * ratio), bufferSize: Int(Double(rung.bufferSize) * ratio),
                         audioBitRate: hasAudio ? rung.audioBitRate : 0, frameRate: frameRate)
    }

    /// The source's frame rate halved until it is at most `maxFrameRate`; nil when unknown.
    static func cappedFrameRate(_ video: StreamInfo, maxFrameRate: Double) -> Double? {
        let candidates = [video.averageFrameRate, video.realFrameRate].compactMap { $0?.doubleValue }.filter { $0 > 0 && $0 < 1000 }
        guard var rate = candidates.first else { return nil }
        while rate > maxFrameRate + 0.01 { rate /= 2 }
        return rate
    }

    private static func even(_ value: Int) -> Int { max(2, value & ~1) }
}
