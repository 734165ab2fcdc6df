internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import VideoCore
internal import VideoPlatform

// Sign-up, sign-in, sessions and the signed-in user.
extension VideoStackAPI {
    func signUp(_ call: APICall) async throws -> Response {
        let body = try await call.decodeJSON(SignUpRequest.self)
        let user = try await platform.accounts.signUp(username: body.username, email: body.email, password: body.password,
                                                      displayName: body.name ?? "")
        var fields = HTTPFields()
        fields[.location] = "\(configuration.pathPrefix)/me"
        return try json(UserResource(user, role: .member, showEmail: true), status: .created, headers: fields)
    }

    func signIn(_ call: APICall) async throws -> Response {
        let body = try await call.decodeJSON(SignInRequest.self)
        let tokens = try await platform.accounts.signIn(email: body.email, password: body.password, clientAddress: call.address)
        return try json(try await session(tokens))
    }

    func refresh(_ call: APICall) async throws -> Response {
        let body = try await call.decodeJSON(RefreshRequest.self)
        guard !body.refreshToken.isEmpty, body.refreshToken.utf8.count <= 4096 else {
            throw APIError.unauthorized("The refresh token is malformed; sign in again.")
        }
        return try json(try await session(try await platform.accounts.refresh(body.refreshToken)))
    }

    func signOut(_ call: APICall) async throws -> Response {
        let body = try await call.decodeJSON(SignOutRequest.self, optional: true)
        if let token = body?.refreshToken, !token.isEmpty {
            guard token.utf8.count <= 4096 else { throw APIError.unauthorized("The refresh token is malformed.") }
            try await platform.accounts.signOut(refreshToken: token)
        }
        if let user = call.user {
            try await platform.accounts.signOut(user)
        } else if body?.refreshToken?.isEmpty ?? true {
            throw APIError.unauthorized("Send the access token ('Authorization: Bearer …') or the refresh token of the session to end.")
        }
        return empty()
    }

    func signOutAll(_ call: APICall) async throws -> Response {
        try await platform.accounts.signOutEverywhere(try call.requireUser().username)
        return empty()
    }

    func me(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        guard let stored = try await platform.catalog.user(named: user.username) else {
            throw APIError.unauthorized("The account of this token no longer exists.")
        }
        return try json(UserResource(stored, role: user.role, showEmail: true))
    }

    private func session(_ tokens: SessionTokens) async throws -> SessionResource {
        guard let user = try await platform.catalog.user(named: tokens.user.username) else {
            throw APIError.unauthorized("The account no longer exists.")
        }
        let expiresIn = max(0, Int(tokens.accessTokenExpiresAt.timeIntervalSinceNow.rounded(.down)))
        return SessionResource(accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: expiresIn,
                               user: UserResource(user, role: tokens.user.role, showEmail: true))
    }
}
