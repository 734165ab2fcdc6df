import VideoCore

extension MasterPlaylist {
    /// The master playlist for packaged renditions stored under `directory` (the master's own key prefix).
    ///
    /// Renditions with video become variants (in the given order); audio-only renditions become
    /// an `EXT-X-MEDIA` audio group `audioGroupID` that every variant refers to, and their peak
    /// bit rate and codec are added to each variant's `BANDWIDTH` and `CODECS`. Without any video
    /// rendition, audio renditions are the variants. Variants get `RESOLUTION` and `FRAME-RATE`
    /// from their video track and an `EXT-X-I-FRAME-STREAM-INF` when they have an I-frame playlist.
    public init(renditions: [RenditionSummary], directory: String, audioGroupID: String = "audio") {
        func relative(_ key: String) -> String {
            guard !directory.isEmpty, key.hasPrefix(directory + "/") else { return key }
            return String(key.dropFirst(directory.count + 1))
        }
        let video = renditions.filter(\.hasVideo)
        let audio = video.isEmpty ? [] : renditions.filter { !$0.hasVideo && $0.hasAudio }
        var media: [AlternativeMedia] = []
        for (index, rendition) in audio.enumerated() {
            let format = rendition.tracks.first { $0.kind == .audio }
            let name = rendition.directory.split(separator: "/").last.map(String.init) ?? "audio\(index)"
            media.append(AlternativeMedia(type: .audio, groupID: audioGroupID, name: name, uri: relative(rendition.playlistKey),
                                          isDefault: index == 0, autoselect: true,
                                          channels: format.map { "\(max($0.channels, 1))" }))
        }
        let audioPeak = audio.map(\.peakBitRate).max() ?? 0
        let audioAverage = audio.map(\.averageBitRate).max() ?? 0
        let audioCodecs = Array(Set(audio.flatMap(\.codecs))).sorted()
        var variants: [VariantStream] = []
        var iFrames: [IFrameStream] = []
        for rendition in (video.isEmpty ? renditions : video) {
            var codecs = rendition.codecs
            for codec in audioCodecs where !codecs.contains(codec) { codecs.append(codec) }
            let format = rendition.video
            let resolution = format.flatMap { $0.width > 0 && $0.height > 0 ? Resolution(width: $0.width, height: $0.height) : nil }
            let frameRate = format?.frameRate.flatMap { $0.denominator > 0 ? Double($0.numerator) / Double($0.denominator) : nil }
            variants.append(VariantStream(uri: relative(rendition.playlistKey), bandwidth: max(rendition.peakBitRate + audioPeak, 1),
                                          averageBandwidth: max(rendition.averageBitRate + audioAverage, 1), codecs: codecs.joined(separator: ","),
                                          resolution: resolution, frameRate: frameRate, audio: audio.isEmpty ? nil : audioGroupID))
            if let key = rendition.iFramePlaylistKey, rendition.iFramePeakBitRate > 0 {
                iFrames.append(IFrameStream(uri: relative(key), bandwidth: rendition.iFramePeakBitRate,
                                            averageBandwidth: max(rendition.iFrameAverageBitRate, 1),
                                            codecs: rendition.codecs.first { $0.hasPrefix("avc1") }, resolution: resolution))
            }
        }
        self.init(independentSegments: true, media: media, variants: variants, iFrameStreams: iFrames)
    }
}
