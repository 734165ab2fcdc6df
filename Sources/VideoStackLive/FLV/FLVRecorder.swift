import Foundation
internal import VideoCore

/// Writes what a publisher sends into an FLV file on local disk, so the recording can be
/// published as a video on demand when the stream ends.
///
/// Timestamps are rewritten to one continuous timeline (a reconnected publisher starts again at
/// 0; its tags continue after the last one recorded). The file gets its `onMetaData` tag (with
/// the duration) only when it is copied out by ``stream(chunkSize:)``, since the duration is
/// known only at the end.
final class FLVRecorder: @unchecked Sendable {
    // @unchecked Sendable: only the owning LiveStream actor touches it, one call at a time.
    let url: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var hasAudio = false
    private(set) var hasVideo = false
    /// The last timestamp written, in milliseconds.
    private(set) var lastTimestamp: UInt32 = 0
    private(set) var bytesWritten = 0
    private var closed = false
    private var width = 0
    private var height = 0

    init(url: URL) throws {
        self.url = url
        try? FileManager.default.removeItem(at: url)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw VideoStackError(.io, "Could not create the live recording file \(url.path); check that the scratch directory is writable.")
        }
        handle = try FileHandle(forWritingTo: url)
    }

    deinit { try? handle.close() }

    /// Notes the picture size for the metadata tag.
    func setPictureSize(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Appends one tag (8 audio, 9 video) at `timestamp` milliseconds on the continuous timeline.
    func append(type: UInt8, timestamp: UInt32, body: [UInt8]) throws {
        guard !closed, !body.isEmpty else { return }
        if type == 8 { hasAudio = true } else if type == 9 { hasVideo = true }
        lastTimestamp = max(lastTimestamp, timestamp)
        FLVRecorder.appendTag(type: type, timestamp: timestamp, body: body, into: &buffer)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw VideoStackError(.io, "Could not write the live recording \(url.path): \(error.localizedDescription).", cause: error)
        }
        bytesWritten += buffer.count
        buffer = []
    }

    func close() throws {
        guard !closed else { return }
        try flush()
        closed = true
        try handle.close()
    }

    static func appendTag(type: UInt8, timestamp: UInt32, body: [UInt8], into out: inout [UInt8]) {
        let size = UInt32(body.count)
        out.append(type)
        out.append(UInt8(size >> 16 & 0xFF)); out.append(UInt8(size >> 8 & 0xFF)); out.append(UInt8(size & 0xFF))
        out.append(UInt8(timestamp >> 16 & 0xFF)); out.append(UInt8(timestamp >> 8 & 0xFF)); out.append(UInt8(timestamp & 0xFF))
        out.append(UInt8(timestamp >> 24))
        out.append(contentsOf: [0, 0, 0])
        out.append(contentsOf: body)
        out.append(contentsOf: RTMPMessage.bigEndian(size + 11))
    }

    /// An FLV file header announcing audio and video, with the first PreviousTagSize.
    static let fileHeader: [UInt8] = [0x46, 0x4C, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]

    /// The FLV header and the metadata tag with the final duration (milliseconds → seconds).
    func header(durationMilliseconds: UInt32) -> [UInt8] {
        var out: [UInt8] = [0x46, 0x4C, 0x56, 0x01, (hasAudio ? 0x04 : 0) | (hasVideo ? 0x01 : 0), 0, 0, 0, 9, 0, 0, 0, 0]
        var metadata: [(String, AMF0Value)] = [("duration", .number(Double(durationMilliseconds) / 1000))]
        if hasVideo {
            metadata.append(("videocodecid", .number(7)))
            if width > 0 { metadata.append(("width", .number(Double(width)))); metadata.append(("height", .number(Double(height)))) }
        }
        if hasAudio { metadata.append(("audiocodecid", .number(10))) }
        let body = AMF0Value.encode([.string("onMetaData"), .ecmaArray(metadata)])
        FLVRecorder.appendTag(type: 18, timestamp: 0, body: body, into: &out)
        return out
    }

    /// The whole file (header, metadata, tags) as chunks read one at a time, for a `BlobStore`
    /// upload. Call after ``close()``.
    func stream(chunkSize: Int = 1 << 20) throws -> AsyncThrowingStream<[UInt8], any Error> {
        let reader = try ChunkReader(url: url, head: header(durationMilliseconds: lastTimestamp), chunkSize: chunkSize)
        return AsyncThrowingStream(unfolding: { try reader.next() })
    }
}

/// Reads a file in chunks after a header.
///
/// `@unchecked Sendable`: the stream's single consumer calls `next()` one call at a time.
private final class ChunkReader: @unchecked Sendable {
    private var head: [UInt8]?
    private let handle: FileHandle
    private let chunkSize: Int
    private let url: URL

    init(url: URL, head: [UInt8], chunkSize: Int) throws {
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw VideoStackError(.io, "Could not open the live recording \(url.path): \(error.localizedDescription).", cause: error)
        }
        self.head = head
        self.chunkSize = chunkSize
        self.url = url
    }

    deinit { try? handle.close() }

    func next() throws -> [UInt8]? {
        if let head {
            self.head = nil
            return head
        }
        do {
            guard let data = try handle.read(upToCount: chunkSize), !data.isEmpty else { return nil }
            return Array(data)
        } catch {
            throw VideoStackError(.io, "Could not read the live recording \(url.path): \(error.localizedDescription).", cause: error)
        }
    }
}
