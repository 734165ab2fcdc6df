import VideoCore

extension MasterPlaylist {
    /// The master playlist for packaged renditions stored under `directory` (the master's own key prefix).
    ///
    /// Renditions with video become variants (in the given order); audio-only renditions become
    /// an `EXT-X-MEDIA` audio group `audioGroupID` that every variant refers to, and their peak
    /// bit rate and codec are added to each variant's `BANDWIDTH` and `CODECS`. Without any video
    /// rendition, audio renditions are the variants. Variants get `RESOLUTION` and `FRAME-RATE`
    /// from their video track and an `EXT-X-I-FRAME-STREAM-INF` when they have an I-frame playlist.
    ///
    /// `audioGroups` maps a video rendition's directory name to the audio rendition it plays with,
    /// when rungs use different audio (say 64 and 128 kbit/s): each audio rendition then gets a group
    /// of its own name. Left empty, all audio renditions form the single group `audioGroupID`.
    public init(renditions: [RenditionSummary], directory: String, audioGroupID: String = "audio", audioGroups: [String: String] = [:]) {
        func relative(_ key: String) -> String {
            guard !directory.isEmpty, key.hasPrefix(directory + "/") else { return key }
            return String(key.dropFirst(directory.count + 1))
        }
        func name(_ rendition: RenditionSummary) -> String {
            rendition.directory.split(separator: "/").last.map(String.init) ?? rendition.directory
        }
        let video = renditions.filter(\.hasVideo)
        let audio = video.isEmpty ? [] : renditions.filter { !$0.hasVideo && $0.hasAudio }
        func group(of rendition: RenditionSummary) -> String { audioGroups.isEmpty ? audioGroupID : name(rendition) }
        var media: [AlternativeMedia] = []
        var defaulted: Set<String> = []
        for rendition in audio {
            let format = rendition.tracks.first { $0.kind == .audio }
            let groupID = group(of: rendition)
            media.append(AlternativeMedia(type: .audio, groupID: groupID, name: name(rendition), uri: relative(rendition.playlistKey),
                                          isDefault: defaulted.insert(groupID).inserted, autoselect: true,
                                          channels: format.map { "\(max($0.channels, 1))" }))
        }
        var variants: [VariantStream] = []
        var iFrames: [IFrameStream] = []
        for rendition in (video.isEmpty ? renditions : video) {
            // The audio this variant plays with: its own group, or every audio rendition of the single group.
            let partners = audioGroups.isEmpty ? audio : audio.filter { name($0) == audioGroups[name(rendition)] }
            var codecs = rendition.codecs
            for codec in Set(partners.flatMap(\.codecs)).sorted() where !codecs.contains(codec) { codecs.append(codec) }
            let audioPeak = partners.map(\.peakBitRate).max() ?? 0
            let audioAverage = partners.map(\.averageBitRate).max() ?? 0
            let format = rendition.video
            let resolution = format.flatMap { $0.width > 0 && $0.height > 0 ? Resolution(width: $0.width, height: $0.height) : nil }
            let frameRate = format?.frameRate.flatMap { $0.denominator > 0 && $0.numerator > 0 ? Double($0.numerator) / Double($0.denominator) : nil }
            variants.append(VariantStream(uri: relative(rendition.playlistKey), bandwidth: max(rendition.peakBitRate + audioPeak, 1),
                                          averageBandwidth: max(rendition.averageBitRate + audioAverage, 1), codecs: codecs.joined(separator: ","),
                                          resolution: resolution, frameRate: frameRate, audio: partners.first.map(group(of:))))
            if let key = rendition.iFramePlaylistKey, rendition.iFramePeakBitRate > 0 {
                iFrames.append(IFrameStream(uri: relative(key), bandwidth: rendition.iFramePeakBitRate,
                                            averageBandwidth: max(rendition.iFrameAverageBitRate, 1),
                                            codecs: rendition.codecs.first { $0.hasPrefix("avc1") || $0.hasPrefix("hvc1") }, resolution: resolution))
            }
        }
        self.init(independentSegments: true, media: media, variants: variants, iFrameStreams: iFrames)
    }
}
