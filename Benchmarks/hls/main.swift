import Foundation
import HLSPackager
import VideoCore
import Logging

let args = CommandLine.arguments
if args.count >= 4, args[1] == "package" {
    let store = try FileBlobStore(root: URL(fileURLWithPath: args[3]))
    var configuration = HLSConfiguration()
    if args.contains("ts") { configuration.segmentFormat = .mpegts }
    if args.contains("single") { configuration.singleFile = true }
    let result = try await Remuxer.package(file: args[2], store: store, directory: "", configuration: configuration, separateAudio: args.contains("sep"), logger: Logger(label: "x"))
    print(result.renditions.map(\.segmentDurations))
}
