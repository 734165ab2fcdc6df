public import Foundation

/// One AWS service as clients address it: its signing name, the host prefix of its default
/// endpoint, and the names under which the SDKs look up a custom endpoint.
public struct AWSService: Hashable, Sendable, CustomStringConvertible {
    /// The name in the credential scope of a signature (`s3`, `dynamodb`, `sqs`).
    public var signingName: String
    /// The first label of the default endpoint's host (`streams.dynamodb` for DynamoDB Streams).
    public var endpointPrefix: String
    /// The suffix of `AWS_ENDPOINT_URL_<NAME>` (the service id, upper case, spaces as `_`).
    public var environmentName: String
    /// The key of the service in a shared-config `services` section (the id, lower case, `_`).
    public var configKey: String

    /// A service description; the static members cover the services VideoStack uses.
    public init(signingName: String, endpointPrefix: String, environmentName: String, configKey: String) {
        self.signingName = signingName
        self.endpointPrefix = endpointPrefix
        self.environmentName = environmentName
        self.configKey = configKey
    }

    /// Amazon S3.
    public static let s3 = AWSService(signingName: "s3", endpointPrefix: "s3", environmentName: "S3", configKey: "s3")
    /// Amazon DynamoDB.
    public static let dynamoDB = AWSService(signingName: "dynamodb", endpointPrefix: "dynamodb", environmentName: "DYNAMODB", configKey: "dynamodb")
    /// DynamoDB Streams signs as `dynamodb` but has endpoints of its own.
    public static let dynamoDBStreams = AWSService(signingName: "dynamodb", endpointPrefix: "streams.dynamodb", environmentName: "DYNAMODB_STREAMS", configKey: "dynamodb_streams")
    /// Amazon SQS.
    public static let sqs = AWSService(signingName: "sqs", endpointPrefix: "sqs", environmentName: "SQS", configKey: "sqs")

    /// The public endpoint in `region` (`https://sqs.eu-west-1.amazonaws.com`).
    public func defaultEndpoint(region: String) -> URL {
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return URL(string: "https://\(endpointPrefix).\(region).\(domain)")!
    }

    /// The service key (`s3`, `dynamodb`, …).
    public var description: String { configKey }
}
