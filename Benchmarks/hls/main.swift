import Foundation
import HLSPackager
import VideoCore
import Logging

let args = CommandLine.arguments
if args.count >= 4, args[1] == "package" {
    let store = try FileBlobStore(root: URL(fileURLWithPath: args[3]))
    let result = try await Remuxer.package(file: args[2], store: store, directory: "", separateAudio: args.count > 4, logger: Logger(label: "x"))
    print(result.renditions.map(\.segmentDurations))
}
