import Foundation
import Testing
import TestSupport
import VideoCore
import VideoStackAWS

/// Region, credentials and endpoints from explicit environments and temporary shared files,
/// as the AWS SDKs resolve them. Nothing here reads the real environment or talks to AWS.
@Suite("AWS configuration")
struct AWSConfigurationTests {
    func withFiles<T>(credentials: String? = nil, config: String? = nil, _ body: ([String: String]) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "aws-config") { directory in
            // HOME points at an empty directory, so the machine's own ~/.aws never leaks in.
            var environment = ["HOME": directory.path]
            if let credentials {
                let path = directory.appendingPathComponent("credentials").path
                try credentials.write(toFile: path, atomically: true, encoding: .utf8)
                environment["AWS_SHARED_CREDENTIALS_FILE"] = path
            }
            if let config {
                let path = directory.appendingPathComponent("config").path
                try config.write(toFile: path, atomically: true, encoding: .utf8)
                environment["AWS_CONFIG_FILE"] = path
            }
            return try await body(environment)
        }
    }

    @Test func environmentVariablesWin() async throws {
        try await withFiles(credentials: "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n",
                            config: "[default]\nregion = eu-central-1\n") { base in
            var environment = base
            environment["AWS_ACCESS_KEY_ID"] = "ENVKEY"
            environment["AWS_SECRET_ACCESS_KEY"] = "envsecret"
            environment["AWS_SESSION_TOKEN"] = "token/+="
            environment["AWS_DEFAULT_REGION"] = "us-west-2"
            let configuration = try AWSConfiguration.load(environment: environment)
            let credentials = try await configuration.credentials.credentials()
            #expect(credentials == AWSCredentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "token/+="))
            #expect(configuration.region == "us-west-2")
            environment["AWS_REGION"] = "ap-south-1"  // AWS_REGION outranks AWS_DEFAULT_REGION
            #expect(try AWSConfiguration.load(environment: environment).region == "ap-south-1")
            // The secret never shows up when credentials are printed.
            #expect(!"\(credentials)".contains("envsecret") && !"\(credentials)".contains("token/+="))
        }
    }

    @Test func profilesFromBothFiles() async throws {
        let credentialsFile = """
        # comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret

        [media]
        aws_access_key_id=MEDIAKEY
        aws_secret_access_key =  media secret with spaces\t
        aws_session_token = MEDIATOKEN
        """
        let configFile = """
        [default]
        region = eu-west-1
        ; another comment
        [profile media]
        region = us-east-2
        AWS_ACCESS_KEY_ID = IGNOREDKEY
        aws_secret_access_key = ignored

        [profile onlyconfig]
        region = sa-east-1
        aws_access_key_id = CONFIGKEY
        aws_secret_access_key = configsecret
        """
        try await withFiles(credentials: credentialsFile, config: configFile) { base in
            let fallback = try AWSConfiguration.load(environment: base)
            #expect(fallback.profile == "default" && fallback.region == "eu-west-1")
            #expect(try await fallback.credentials.credentials().accessKeyID == "DEFAULTKEY")

            var environment = base
            environment["AWS_PROFILE"] = "media"
            let media = try AWSConfiguration.load(environment: environment)
            // The credentials file outranks the config file within one profile.
            #expect(try await media.credentials.credentials() == AWSCredentials(accessKeyID: "MEDIAKEY", secretAccessKey: "media secret with spaces", sessionToken: "MEDIATOKEN"))
            #expect(media.region == "us-east-2")

            environment["AWS_PROFILE"] = "onlyconfig"
            let onlyConfig = try AWSConfiguration.load(environment: environment)
            #expect(try await onlyConfig.credentials.credentials().accessKeyID == "CONFIGKEY")
            #expect(onlyConfig.region == "sa-east-1")

            environment["AWS_PROFILE"] = "nope"
            let error = try #require(throws: VideoStackError.self) { try AWSConfiguration.load(environment: environment) }
            #expect(error.code == .invalidInput && error.message.contains("nope"))
        }
    }

    @Test func endpointsPerServiceAndGlobally() async throws {
        let configFile = """
        [default]
        region = eu-west-1
        endpoint_url = http://127.0.0.1:1111
        services = local
        s3 =
          addressing_style = path

        [services local]
        dynamodb =
          endpoint_url = http://127.0.0.1:2222
        sqs =
            endpoint_url = http://127.0.0.1:3333
        """
        try await withFiles(config: configFile) { base in
            let fromFile = try AWSConfiguration.load(environment: base)
            #expect(fromFile.endpoint(for: .dynamoDB).absoluteString == "http://127.0.0.1:2222")
            #expect(fromFile.endpoint(for: .sqs).absoluteString == "http://127.0.0.1:3333")
            #expect(fromFile.endpoint(for: .s3).absoluteString == "http://127.0.0.1:1111")
            #expect(fromFile.s3AddressingStyle == "path")

            var environment = base
            environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4444"
            environment["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:5555"
            environment["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = "http://127.0.0.1:6666"
            let fromEnvironment = try AWSConfiguration.load(environment: environment)
            // Service variable > global variable > the file's service entries > the file's global one.
            #expect(fromEnvironment.endpoint(for: .s3).absoluteString == "http://127.0.0.1:5555")
            #expect(fromEnvironment.endpoint(for: .dynamoDB).absoluteString == "http://127.0.0.1:4444")
            #expect(fromEnvironment.endpoint(for: .dynamoDBStreams).absoluteString == "http://127.0.0.1:6666")

            environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
            let ignored = try AWSConfiguration.load(environment: environment)
            #expect(ignored.endpoint(for: .sqs).absoluteString == "https://sqs.eu-west-1.amazonaws.com")
            #expect(ignored.endpoint(for: .dynamoDBStreams).absoluteString == "https://streams.dynamodb.eu-west-1.amazonaws.com")
        }
    }

    @Test func missingAndBrokenConfigurationGetClearErrors() async throws {
        // No region anywhere.
        try await withFiles { environment in
            let error = try #require(throws: VideoStackError.self) { try AWSConfiguration.load(environment: environment) }
            #expect(error.code == .invalidInput && error.message.contains("AWS_REGION"))
        }
        // No credentials: loading works, the first request is refused with where it looked.
        try await withFiles(config: "[default]\nregion = eu-west-1\n") { environment in
            let configuration = try AWSConfiguration.load(environment: environment)
            let error = await #expect(throws: VideoStackError.self) { try await configuration.credentials.credentials() }
            #expect(error?.code == .forbidden && error?.message.contains("AWS_ACCESS_KEY_ID") == true)
        }
        // A role profile names what is not supported.
        try await withFiles(config: "[default]\nregion = eu-west-1\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n") { environment in
            let configuration = try AWSConfiguration.load(environment: environment)
            let error = await #expect(throws: VideoStackError.self) { try await configuration.credentials.credentials() }
            #expect(error?.message.contains("role_arn") == true)
        }
        // Damaged files and values.
        for broken in ["region = eu-west-1\n", "[default\nregion = x\n", "[default]\njust words\n"] {
            try await withFiles(config: broken) { environment in
                let error = try #require(throws: VideoStackError.self) { try AWSConfiguration.load(environment: environment) }
                #expect(error.code == .corrupt, "\(broken.debugDescription)")
            }
        }
        try await withFiles(config: "[default]\nregion = eu-west-1\n") { base in
            var environment = base
            environment["AWS_ENDPOINT_URL_SQS"] = "localhost:4566"
            let error = try #require(throws: VideoStackError.self) { try AWSConfiguration.load(environment: environment) }
            #expect(error.code == .invalidInput && error.message.contains("AWS_ENDPOINT_URL_SQS"))
            environment["AWS_ENDPOINT_URL_SQS"] = nil
            environment["AWS_REGION"] = "EU West 1"
            #expect(throws: VideoStackError.self) { try AWSConfiguration.load(environment: environment) }
        }
        // Not UTF-8.
        try await withTemporaryDirectory(prefix: "aws-config") { directory in
            let path = directory.appendingPathComponent("config").path
            try Data([0x5B, 0xFF, 0xFE, 0x5D]).write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: VideoStackError.self) { try AWSConfiguration.load(environment: ["HOME": directory.path, "AWS_CONFIG_FILE": path]) }
            #expect(error.code == .corrupt)
        }
    }
}
