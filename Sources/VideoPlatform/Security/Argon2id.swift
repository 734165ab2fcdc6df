internal import CArgon2
internal import VideoCore

/// The one place VideoStack calls libargon2: raw Argon2id (RFC 9106) over a password and a salt.
enum Argon2id {
    /// Computes the Argon2id tag of `password` with these parameters. Blocking and memory-hungry
    /// (`memoryKiB` KiB for the duration): call it from a dedicated thread, never from the
    /// cooperative pool.
    static func hash(password: [UInt8], salt: [UInt8], memoryKiB: Int, iterations: Int, parallelism: Int, length: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let status = password.withUnsafeBytes { passwordBytes in
            salt.withUnsafeBytes { saltBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    argon2id_hash_raw(UInt32(iterations), UInt32(memoryKiB), UInt32(parallelism),
                                      passwordBytes.baseAddress, passwordBytes.count,
                                      saltBytes.baseAddress, saltBytes.count,
                                      outputBytes.baseAddress, outputBytes.count)
                }
            }
        }
        try check(status, "argon2id_hash_raw")
        return output
    }

    /// Turns a libargon2 return code into a `VideoStackError` naming the call and the code.
    private static func check(_ status: Int32, _ call: String) throws {
        guard status != ARGON2_OK.rawValue else { return }
        let text = String(cString: argon2_error_message(status))
        let code: VideoStackError.Code = status == ARGON2_MEMORY_ALLOCATION_ERROR.rawValue ? .limitExceeded : .internal
        throw VideoStackError(code, "Password hashing failed: \(call) returned \(status) (\(text)).",
                              cause: Argon2Status(code: status, message: text))
    }
}

/// A libargon2 return code and its text, kept as an error's cause.
struct Argon2Status: Error, Sendable, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "libargon2 \(code): \(message)" }
}
