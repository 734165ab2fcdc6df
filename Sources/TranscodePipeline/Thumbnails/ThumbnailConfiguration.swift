import VideoCore

/// How the poster and the storyboard are picked and laid out.
///
/// Used by a transcode (``TranscodeConfiguration/thumbnails``), which picks them from the frames
/// it decodes anyway, and by a standalone ``Thumbnailer``.
public struct ThumbnailConfiguration: Hashable, Sendable {
    /// The poster is the display size (aspect ratio and rotation applied), scaled down to at most this width.
    public var posterMaxWidth: Int
    /// How many frames, spread evenly over the video, compete to be the poster; the one with the
    /// most luma variance wins, which rules out black frames, fades and flat title cards. Frames
    /// in the first and last 5% never win while another candidate exists.
    public var posterCandidates: Int
    /// Time between storyboard tiles; raised (doubled) until the video fits in ``maxTiles`` tiles.
    public var storyboardInterval: Duration
    /// Width of one storyboard tile in pixels; the height follows the display aspect ratio.
    public var tileWidth: Int
    /// Tiles per row of the sprite sheet.
    public var columns: Int
    /// The most tiles the sprite sheet holds.
    public var maxTiles: Int
    /// The sprite sheet's file name, as the WebVTT cues refer to it (`sprite.jpg#xywh=…`).
    public var spriteName: String

    /// Creates a configuration: a poster at most 1280 wide from 9 candidates, 160-pixel tiles every 5 s, 10 to a row, 200 at most.
    public init(posterMaxWidth: Int = 1280, posterCandidates: Int = 9, storyboardInterval: Duration = .seconds(5),
                tileWidth: Int = 160, columns: Int = 10, maxTiles: Int = 200, spriteName: String = "sprite.jpg") {
        self.posterMaxWidth = posterMaxWidth
        self.posterCandidates = posterCandidates
        self.storyboardInterval = storyboardInterval
        self.tileWidth = tileWidth
        self.columns = columns
        self.maxTiles = maxTiles
        self.spriteName = spriteName
    }

    /// Throws `.invalidInput` naming the first setting out of range.
    func validate() throws {
        guard posterMaxWidth >= 16, posterCandidates >= 1 else {
            throw VideoStackError(.invalidInput, "A poster needs a maximum width of at least 16 pixels and at least one candidate; got \(posterMaxWidth) and \(posterCandidates).")
        }
        guard storyboardInterval > .zero, tileWidth >= 16, columns >= 1, maxTiles >= 1 else {
            throw VideoStackError(.invalidInput, "A storyboard needs a positive interval, tiles at least 16 pixels wide, at least one column and one tile; got \(storyboardInterval), \(tileWidth), \(columns), \(maxTiles).")
        }
        guard !spriteName.isEmpty, !spriteName.contains("/"), !spriteName.contains("#") else {
            throw VideoStackError(.invalidInput, "The sprite name '\(spriteName)' must be a plain file name (no '/' or '#').")
        }
    }
}

/// A poster picture chosen from a video.
public struct Poster: Hashable, Sendable {
    /// The picture as JPEG.
    public var jpeg: [UInt8]
    /// Time of the frame used, from the start of the video.
    public var time: Duration
    /// Width of the picture in pixels.
    public var width: Int
    /// Height of the picture in pixels.
    public var height: Int

    /// Creates a poster from its JPEG bytes and what they show.
    public init(jpeg: [UInt8], time: Duration, width: Int, height: Int) {
        self.jpeg = jpeg
        self.time = time
        self.width = width
        self.height = height
    }
}

/// A storyboard: a sprite sheet of small frames at a fixed interval and a WebVTT text that maps
/// each time range to its tile (`sprite.jpg#xywh=x,y,w,h`), as players use for scrubbing previews.
public struct Storyboard: Hashable, Sendable {
    /// The sprite sheet as JPEG.
    public var sprite: [UInt8]
    /// The sprite sheet's file name, as the cues refer to it; store the sheet under this name next to the WebVTT file.
    public var spriteName: String
    /// The WebVTT file: one cue per tile, the last one ending where the video ends.
    public var webVTT: String
    /// Time between tiles.
    public var interval: Duration
    /// Width of one tile in pixels.
    public var tileWidth: Int
    /// Height of one tile in pixels (the display aspect ratio kept).
    public var tileHeight: Int
    /// Tiles per row of the sheet.
    public var columns: Int
    /// Rows of tiles in the sheet.
    public var rows: Int
    /// Number of tiles (and cues).
    public var tileCount: Int

    /// Creates a storyboard from its parts.
    public init(sprite: [UInt8], spriteName: String, webVTT: String, interval: Duration, tileWidth: Int, tileHeight: Int,
                columns: Int, rows: Int, tileCount: Int) {
        self.sprite = sprite
        self.spriteName = spriteName
        self.webVTT = webVTT
        self.interval = interval
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.columns = columns
        self.rows = rows
        self.tileCount = tileCount
    }
}

/// A video's poster and storyboard, picked in one pass over its frames.
public struct Thumbnails: Hashable, Sendable {
    public var poster: Poster
    public var storyboard: Storyboard

    /// Creates the pair.
    public init(poster: Poster, storyboard: Storyboard) {
        self.poster = poster
        self.storyboard = storyboard
    }

    /// One file to store: its name, bytes and MIME type.
    public struct File: Hashable, Sendable {
        public var name: String
        public var bytes: [UInt8]
        public var contentType: String

        /// Creates a file description.
        public init(name: String, bytes: [UInt8], contentType: String) {
            self.name = name
            self.bytes = bytes
            self.contentType = contentType
        }
    }

    /// The files to store side by side (next to `master.m3u8`, say): `poster.jpg`, the sprite
    /// sheet and `storyboard.vtt`, whose cues name the sheet relative to themselves.
    public var files: [File] {
        [
            File(name: "poster.jpg", bytes: poster.jpeg, contentType: "image/jpeg"),
            File(name: storyboard.spriteName, bytes: storyboard.sprite, contentType: "image/jpeg"),
            File(name: "storyboard.vtt", bytes: Array(storyboard.webVTT.utf8), contentType: "text/vtt"),
        ]
    }
}
