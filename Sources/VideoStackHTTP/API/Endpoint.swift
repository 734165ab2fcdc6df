internal import HTTPTypes
internal import Hummingbird

/// One route of the API: method, path (below the prefix, in OpenAPI's `{name}` form, which
/// Hummingbird's router reads too), who may call it, and the handler. The OpenAPI document and
/// the router are both built from ``VideoStackAPI/endpoints``, and tests check them against
/// each other.
struct Endpoint: Sendable {
    enum Authentication: Sendable { case none, optional, required }
    enum Cost: Sendable { case normal, upload, search }

    var method: HTTPRequest.Method
    var path: String
    var authentication: Authentication
    var errorContext: APIError.Context = .json
    var costKind: Cost = .normal
    var handler: @Sendable (APICall) async throws -> Response

    func cost(_ configuration: APIConfiguration) -> Int {
        switch costKind {
        case .normal: return 1
        case .upload: return max(1, configuration.uploadRequestCost)
        case .search: return max(1, configuration.searchRequestCost)
        }
    }

    /// The CORS preflight of a path with no `OPTIONS` endpoint of its own.
    static func preflight(path: String) -> Endpoint {
        Endpoint(method: .options, path: path, authentication: .none) { call in
            let methods = VideoStackAPI.endpoints.filter { $0.path == path }.map(\.method)
            return call.api.empty(.noContent, headers: call.api.preflightFields(methods: methods + (methods.contains(.get) ? [.head] : [])))
        }
    }

    /// A known path called with a method it does not take.
    static func refused(path: String, method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> Endpoint {
        Endpoint(method: method, path: path, authentication: .none) { _ in
            throw APIError.methodNotAllowed(method, allowed: allowed)
        }
    }

    /// A path the API does not have.
    static func unknown(method: HTTPRequest.Method) -> Endpoint {
        Endpoint(method: method, path: "/**", authentication: .none) { call in
            throw APIError.notFound("There is no API endpoint \(call.request.uri.path.prefix(200)); see /openapi.json.")
        }
    }
}

extension VideoStackAPI {
    /// Every endpoint, in the order of the contract.
    static let endpoints: [Endpoint] = [
        Endpoint(method: .post, path: "/auth/signup", authentication: .none) { try await $0.api.signUp($0) },
        Endpoint(method: .post, path: "/auth/signin", authentication: .none) { try await $0.api.signIn($0) },
        Endpoint(method: .post, path: "/auth/refresh", authentication: .none) { try await $0.api.refresh($0) },
        Endpoint(method: .post, path: "/auth/signout", authentication: .optional) { try await $0.api.signOut($0) },
        Endpoint(method: .post, path: "/auth/signout-all", authentication: .required) { try await $0.api.signOutAll($0) },
        Endpoint(method: .get, path: "/me", authentication: .required) { try await $0.api.me($0) },

        Endpoint(method: .options, path: "/uploads", authentication: .none, errorContext: .upload) { $0.api.tusOptions($0) },
        Endpoint(method: .post, path: "/uploads", authentication: .required, errorContext: .upload, costKind: .upload) { try await $0.api.tusCreate($0) },
        Endpoint(method: .options, path: "/uploads/{id}", authentication: .none, errorContext: .upload) { $0.api.tusOptions($0) },
        Endpoint(method: .head, path: "/uploads/{id}", authentication: .required, errorContext: .upload, costKind: .upload) { try await $0.api.tusHead($0) },
        Endpoint(method: .patch, path: "/uploads/{id}", authentication: .required, errorContext: .upload, costKind: .upload) { try await $0.api.tusPatch($0) },
        Endpoint(method: .delete, path: "/uploads/{id}", authentication: .required, errorContext: .upload, costKind: .upload) { try await $0.api.tusDelete($0) },

        Endpoint(method: .get, path: "/videos/{id}", authentication: .optional) { try await $0.api.getVideo($0) },
        Endpoint(method: .patch, path: "/videos/{id}", authentication: .required) { try await $0.api.updateVideo($0) },
        Endpoint(method: .delete, path: "/videos/{id}", authentication: .required) { try await $0.api.deleteVideo($0) },
        Endpoint(method: .get, path: "/users/{username}/videos", authentication: .optional) { try await $0.api.userVideos($0) },
        Endpoint(method: .get, path: "/search", authentication: .optional, costKind: .search) { try await $0.api.search($0) },
        Endpoint(method: .post, path: "/videos/{id}/reviews", authentication: .required) { try await $0.api.postReview($0) },
        Endpoint(method: .get, path: "/videos/{id}/reviews", authentication: .optional) { try await $0.api.reviews($0) },
        Endpoint(method: .post, path: "/videos/{id}/share", authentication: .required) { try await $0.api.share($0) },
        Endpoint(method: .post, path: "/videos/{id}/views", authentication: .optional) { try await $0.api.recordView($0) },
        Endpoint(method: .post, path: "/live", authentication: .required) { try await $0.api.createLive($0) },
        Endpoint(method: .post, path: "/live/{id}/key", authentication: .required) { try await $0.api.rotateLiveKey($0) },
        Endpoint(method: .delete, path: "/live/{id}", authentication: .required) { try await $0.api.deleteLive($0) },
        Endpoint(method: .get, path: "/healthz", authentication: .none) { try $0.api.json(["status": "ok"]) },
    ]
}
