public import VideoCore

/// What an AWS service said when it refused a request, kept as the ``VideoStackError/cause``.
public struct AWSServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The service that answered (`s3`, `dynamodb`, `sqs`).
    public var service: String
    /// The HTTP status.
    public var status: Int
    /// AWS's error code (`NoSuchKey`, `ConditionalCheckFailedException`, …), without any namespace.
    public var code: String
    /// AWS's explanation.
    public var message: String
    /// `x-amz-request-id` (or `x-amzn-RequestId`), for AWS support.
    public var requestID: String?
    /// The response body as text (the first MiB), for details beyond code and message
    /// (DynamoDB's cancellation reasons).
    public var body: String

    /// An error as a service reported it.
    public init(service: String, status: Int, code: String, message: String, requestID: String? = nil, body: String = "") {
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.body = body
    }

    /// Service, status, code, message and request id on one line.
    public var description: String {
        "\(service) \(status) \(code): \(message)" + (requestID.map { " (request \($0))" } ?? "")
    }

    /// Throttling codes of every service (AWS SDKs' list), retried with backoff.
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "RequestTimeTooSkewed",
    ]
    /// Transient server-side codes, retried like 5xx answers.
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalServerError", "InternalFailure",
        "ServiceUnavailable", "ServiceUnavailableException",
    ]

    /// Whether the request may succeed if sent again after a pause.
    var isRetryable: Bool {
        Self.throttlingCodes.contains(code) || Self.transientCodes.contains(code) || status >= 500 || status == 429
    }

    var isThrottling: Bool { Self.throttlingCodes.contains(code) || status == 429 }
}

extension VideoStackError.Code {
    /// A remote service stayed throttled or unavailable after every retry the budget allowed.
    /// Try again later; the cause holds the service's last answer or the connection error.
    public static let serviceUnavailable = VideoStackError.Code("serviceUnavailable")
}

extension AWSServiceError {
    /// The error a caller sees: the AWS code and message, under the closest VideoStack code.
    func videoStackError(operation: String) -> VideoStackError {
        let kind: VideoStackError.Code
        switch code {
        case "NoSuchKey", "NoSuchBucket", "NoSuchUpload", "ResourceNotFoundException", "NotFound",
             "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "TrimmedDataAccessException":
            kind = .notFound
        case "AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "SignatureDoesNotMatch", "UnrecognizedClientException",
             "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "MissingAuthenticationToken", "IncompleteSignature":
            kind = .forbidden
        case "ConditionalCheckFailedException", "PreconditionFailed":
            kind = .conditionFailed
        case "TransactionCanceledException":
            kind = .transactionCanceled
        case "ItemCollectionSizeLimitExceededException", "EntityTooLarge", "EntityTooSmall", "RequestEntityTooLarge",
             "KeyTooLongError", "MaxMessageSizeExceeded":
            kind = .limitExceeded
        case "InvalidRange":
            kind = .outOfRange
        case "BucketAlreadyExists", "ResourceInUseException", "QueueAlreadyExists", "QueueNameExists", "IdempotentParameterMismatch",
             "OperationAborted", "TransactionConflictException":
            kind = .conflict
        default:
            if isRetryable { kind = .serviceUnavailable }
            else if status == 404 { kind = .notFound }
            else if status == 403 { kind = .forbidden }
            else if status == 416 { kind = .outOfRange }
            else if (400..<500).contains(status) { kind = .invalidInput }
            else { kind = .internal }
        }
        let what = message.isEmpty ? code : "\(code): \(message)"
        let advice: String
        switch kind {
        case .forbidden: advice = " Check the credentials, the region and the IAM policy."
        case .serviceUnavailable: advice = " The retry budget is spent; try again later or lower the request rate."
        case .notFound: advice = ""
        default: advice = ""
        }
        return VideoStackError(kind, "\(service) \(operation) failed (HTTP \(status)) with \(what).\(advice)", cause: self)
    }
}
