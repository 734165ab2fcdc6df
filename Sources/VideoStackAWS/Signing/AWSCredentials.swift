public import Foundation

/// An access key pair, with the session token of temporary credentials.
public struct AWSCredentials: Hashable, Sendable, CustomStringConvertible {
    /// The public half of the key pair (`AKIA…`, or `ASIA…` for temporary keys).
    public var accessKeyID: String
    /// The secret half; only ever used to derive signing keys.
    public var secretAccessKey: String
    /// Present for temporary credentials (STS, SSO, instance roles); sent as `X-Amz-Security-Token`.
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?

    /// Credentials from their parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// Never prints the secret or the token, so credentials can be logged by accident safely.
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }
}
