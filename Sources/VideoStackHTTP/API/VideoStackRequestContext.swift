public import Hummingbird
public import NIOCore

/// A request context that knows the client's address, for per-address rate limits and view
/// counting: use it as the host router's context (`Router(context: VideoStackRequestContext.self)`).
///
/// ``VideoStackAPI`` works with any context; with one that does not conform to
/// `RemoteAddressRequestContext` requests are limited per user only (and anonymous views are
/// counted under one key), unless ``APIConfiguration/trustForwardedFor`` names a proxy's header.
public struct VideoStackRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's core storage (logger, parameters, endpoint path).
    public var coreContext: CoreRequestContextStorage
    /// The connected peer.
    public let remoteAddress: SocketAddress?

    /// Makes the context of a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
