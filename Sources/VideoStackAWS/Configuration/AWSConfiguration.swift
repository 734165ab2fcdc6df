public import Foundation
internal import VideoCore

/// Supplies credentials for each request, so temporary ones can be refreshed behind it.
public protocol AWSCredentialsProvider: Sendable {
    /// The credentials to sign the next request with. Throws `forbidden` when there are none.
    func credentials() async throws -> AWSCredentials
}

/// Fixed credentials.
public struct StaticCredentialsProvider: AWSCredentialsProvider {
    /// The credentials handed out.
    public let value: AWSCredentials
    /// A provider of `value`.
    public init(_ value: AWSCredentials) { self.value = value }
    /// The fixed credentials.
    public func credentials() async throws -> AWSCredentials { value }
}

/// Where credentials were not found: fails every request with a message that says where it looked.
struct MissingCredentialsProvider: AWSCredentialsProvider {
    let searched: String
    func credentials() async throws -> AWSCredentials {
        throw VideoStackError(.forbidden, "No AWS credentials were found (\(searched)). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add aws_access_key_id and aws_secret_access_key to the profile in the shared credentials file.")
    }
}

/// Region, credentials and endpoints, resolved as the AWS SDKs resolve them.
///
/// ``load(environment:)`` reads, in the SDKs' order of precedence:
/// - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), else the
///   profile in the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default
///   `~/.aws/credentials`), else the profile in the config file (`AWS_CONFIG_FILE`, default
///   `~/.aws/config`, where profiles other than `default` are `[profile NAME]`);
/// - the profile: `AWS_PROFILE` (or the older `AWS_DEFAULT_PROFILE`), else `default`;
/// - the region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`;
/// - a service's endpoint: `AWS_ENDPOINT_URL_<SERVICE>` (`AWS_ENDPOINT_URL_S3`,
///   `AWS_ENDPOINT_URL_DYNAMODB`, …), else `AWS_ENDPOINT_URL`, else the profile's `services`
///   section entry for the service, else the profile's `endpoint_url`, else AWS's public endpoint;
///   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or the profile's
///   `ignore_configured_endpoint_urls`) turns the configured ones off.
///
/// Nothing here talks to the network: instance roles, SSO and `credential_process` are not read
/// (a profile that only names one gets a clear error at the first request).
public struct AWSConfiguration: Sendable {
    /// The region requests are signed for and sent to.
    public var region: String
    /// Where each request gets its credentials.
    public var credentials: any AWSCredentialsProvider
    /// The profile the values came from.
    public var profile: String
    /// Endpoints configured per service (by ``AWSService/configKey``); others use AWS's.
    public var serviceEndpoints: [String: URL]
    /// The endpoint for every service without one of its own.
    public var globalEndpoint: URL?
    /// S3 `addressing_style` from the profile's `s3` settings (`path`, `virtual` or `auto`).
    public var s3AddressingStyle: String?

    /// A configuration from explicit values (no environment is read).
    public init(region: String, credentials: any AWSCredentialsProvider, profile: String = "default",
                serviceEndpoints: [String: URL] = [:], globalEndpoint: URL? = nil, s3AddressingStyle: String? = nil) {
        self.region = region
        self.credentials = credentials
        self.profile = profile
        self.serviceEndpoints = serviceEndpoints
        self.globalEndpoint = globalEndpoint
        self.s3AddressingStyle = s3AddressingStyle
    }

    /// Fixed credentials against one endpoint (a local emulator, say).
    public init(region: String, credentials: AWSCredentials, endpoint: URL? = nil) {
        self.init(region: region, credentials: StaticCredentialsProvider(credentials), globalEndpoint: endpoint)
    }

    /// The endpoint requests to `service` go to.
    public func endpoint(for service: AWSService) -> URL {
        serviceEndpoints[service.configKey] ?? globalEndpoint ?? service.defaultEndpoint(region: region)
    }

    /// Resolves everything from environment variables and the shared files they point to.
    ///
    /// - Parameter environment: the variables to read (the process's by default; tests pass their own).
    /// - Throws: `invalidInput` when a profile named by `AWS_PROFILE` exists in neither file or no
    ///   region is configured; `corrupt` for a file that is not in the shared-config format;
    ///   `invalidInput` for an endpoint that is not an http(s) URL.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSConfiguration {
        func variable(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingSpaces(), !value.isEmpty else { return nil }
            return value
        }
        let home = variable("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> String { path.hasPrefix("~/") ? home + path.dropFirst(1) : path }
        let profileName = variable("AWS_PROFILE") ?? variable("AWS_DEFAULT_PROFILE") ?? "default"
        let explicitProfile = variable("AWS_PROFILE") != nil || variable("AWS_DEFAULT_PROFILE") != nil
        let credentialsPath = expand(variable("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
        let configPath = expand(variable("AWS_CONFIG_FILE") ?? "~/.aws/config")
        let credentialsFile = try readFile(credentialsPath)
        let configFile = try readFile(configPath)

        // The credentials file names sections by the profile alone; the config file prefixes all
        // but `default` with "profile ".
        let credentialsSection = credentialsFile?.sections[profileName]
        let configSection = configFile?.sections[profileName == "default" ? "default" : "profile \(profileName)"]
            ?? (profileName == "default" ? configFile?.sections["profile default"] : nil)
        if explicitProfile, credentialsSection == nil, configSection == nil {
            throw VideoStackError(.invalidInput, "The AWS profile '\(profileName)' is in neither '\(credentialsPath)' nor '\(configPath)'; check AWS_PROFILE or add the profile.")
        }

        // Credentials.
        let credentials: any AWSCredentialsProvider
        if let key = variable("AWS_ACCESS_KEY_ID"), let secret = variable("AWS_SECRET_ACCESS_KEY") {
            credentials = StaticCredentialsProvider(AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                                                   sessionToken: variable("AWS_SESSION_TOKEN") ?? variable("AWS_SECURITY_TOKEN")))
        } else if let found = staticCredentials(in: credentialsSection) ?? staticCredentials(in: configSection) {
            credentials = StaticCredentialsProvider(found)
        } else {
            var searched = "environment, profile '\(profileName)' in '\(credentialsPath)' and '\(configPath)'"
            let keys = Set((credentialsSection?.properties.keys.map { $0 } ?? []) + (configSection?.properties.keys.map { $0 } ?? []))
            let unsupported = keys.intersection(["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"])
            if !unsupported.isEmpty {
                searched += "; the profile uses \(unsupported.sorted().joined(separator: ", ")), which VideoStackAWS does not read: export the resulting keys instead"
            }
            credentials = MissingCredentialsProvider(searched: searched)
        }

        // Region.
        guard let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION") ?? configSection?.properties["region"] else {
            throw VideoStackError(.invalidInput, "No AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION), or 'region' in profile '\(profileName)' of '\(configPath)'.")
        }
        guard isValidRegion(region) else {
            throw VideoStackError(.invalidInput, "'\(region.prefix(64))' is not an AWS region name (like 'eu-west-1').")
        }

        // Endpoints.
        var serviceEndpoints: [String: URL] = [:]
        var globalEndpoint: URL?
        let ignoreConfigured = (variable("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") ?? configSection?.properties["ignore_configured_endpoint_urls"])?.lowercased() == "true"
        if !ignoreConfigured {
            // Lowest precedence first, so later assignments win.
            if let url = configSection?.properties["endpoint_url"] { globalEndpoint = try endpointURL(url, from: "endpoint_url in profile '\(profileName)'") }
            if let servicesName = configSection?.properties["services"], let services = configFile?.sections["services \(servicesName)"] {
                for (service, settings) in services.subProperties {
                    if let url = settings["endpoint_url"] {
                        serviceEndpoints[service] = try endpointURL(url, from: "[services \(servicesName)] \(service)")
                    }
                }
            }
            if let url = variable("AWS_ENDPOINT_URL") {
                globalEndpoint = try endpointURL(url, from: "AWS_ENDPOINT_URL")
                // The global variable outranks the config file's per-service entries.
                serviceEndpoints = [:]
            }
            for service in [AWSService.s3, .dynamoDB, .dynamoDBStreams, .sqs] {
                if let url = variable("AWS_ENDPOINT_URL_\(service.environmentName)") {
                    serviceEndpoints[service.configKey] = try endpointURL(url, from: "AWS_ENDPOINT_URL_\(service.environmentName)")
                }
            }
        }
        return AWSConfiguration(region: region, credentials: credentials, profile: profileName, serviceEndpoints: serviceEndpoints,
                                globalEndpoint: globalEndpoint, s3AddressingStyle: configSection?.subProperties["s3"]?["addressing_style"])
    }

    static func readFile(_ path: String) throws -> SharedConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VideoStackError(.io, "Cannot read the AWS shared file '\(path)': check its permissions.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VideoStackError(.corrupt, "The AWS shared file '\(path)' is not UTF-8 text.")
        }
        return try SharedConfigFile(parsing: text, path: path)
    }

    static func staticCredentials(in section: SharedConfigFile.Section?) -> AWSCredentials? {
        guard let properties = section?.properties, let key = properties["aws_access_key_id"], let secret = properties["aws_secret_access_key"] else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: properties["aws_session_token"] ?? properties["aws_security_token"])
    }

    static func endpointURL(_ text: String, from source: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw VideoStackError(.invalidInput, "The endpoint '\(text.prefix(100))' from \(source) is not an http(s) URL like 'http://127.0.0.1:4566'.")
        }
        return url
    }

    static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.utf8.count <= 64 && region.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
