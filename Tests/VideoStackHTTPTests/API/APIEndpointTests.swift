import Foundation
import HTTPTypes
import Testing
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// Each endpoint of the contract through a real server over a real platform.
@Suite struct APIEndpointTests {
    @Test func accountsSignUpSignInRefreshSignOut() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let created = try await api.call(.post, "/api/v1/auth/signup",
                                             json: #"{"username":"Alice","email":"Alice@Example.com","password":"\#(APIFixture.password)","name":"Alice A."}"#)
            #expect(created.status == 201)
            #expect(created["username"] as? String == "alice")
            #expect(created["email"] as? String == "alice@example.com")
            #expect(created["role"] as? String == "member")
            #expect(created["name"] as? String == "Alice A.")
            #expect((created["createdAt"] as? String).flatMap(APIDates.parse) != nil)
            #expect(created.header("X-Request-Id")?.isEmpty == false)

            let duplicate = try await api.call(.post, "/api/v1/auth/signup",
                                               json: #"{"username":"alice","email":"other@example.com","password":"\#(APIFixture.password)","name":""}"#)
            #expect(duplicate.status == 409)
            #expect(duplicate.errorCode == "conflict")
            let duplicateEmail = try await api.call(.post, "/api/v1/auth/signup",
                                                    json: #"{"username":"alice2","email":"alice@example.com","password":"\#(APIFixture.password)"}"#)
            #expect(duplicateEmail.status == 409)

            let wrong = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"alice@example.com","password":"not the password at all"}"#)
            let unknown = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"nobody@example.com","password":"not the password at all"}"#)
            #expect(wrong.status == 401 && unknown.status == 401)
            #expect(wrong.errorCode == "unauthorized")
            #expect((wrong["error"] as? [String: Any])?["message"] as? String == (unknown["error"] as? [String: Any])?["message"] as? String)
            #expect(wrong.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)

            let signedIn = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"alice@example.com","password":"\#(APIFixture.password)"}"#)
            #expect(signedIn.status == 200)
            let access = try #require(signedIn["accessToken"] as? String)
            let refresh = try #require(signedIn["refreshToken"] as? String)
            let expiresIn = try #require(signedIn["expiresIn"] as? Int)
            #expect(expiresIn > 0 && expiresIn <= 15 * 60)
            #expect((signedIn["user"] as? [String: Any])?["username"] as? String == "alice")

            let me = try await api.call(.get, "/api/v1/me", token: access)
            #expect(me.status == 200)
            #expect(me["email"] as? String == "alice@example.com")
            let anonymous = try await api.call(.get, "/api/v1/me")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("WWW-Authenticate") != nil)

            let refreshed = try await api.call(.post, "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(refresh)"}"#)
            #expect(refreshed.status == 200)
            let newRefresh = try #require(refreshed["refreshToken"] as? String)
            let newAccess = try #require(refreshed["accessToken"] as? String)
            #expect(newRefresh != refresh)
            // The used token is spent; presenting it again ends the session.
            let reused = try await api.call(.post, "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(refresh)"}"#)
            #expect(reused.status == 401)

            // A fresh session, signed out with its refresh token and bearer token.
            let second = try await api.signIn("alice")
            let secondRefresh = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"alice@example.com","password":"\#(APIFixture.password)"}"#)
            let token3 = try #require(secondRefresh["accessToken"] as? String)
            let refresh3 = try #require(secondRefresh["refreshToken"] as? String)
            let out = try await api.call(.post, "/api/v1/auth/signout", token: token3, json: #"{"refreshToken":"\#(refresh3)"}"#)
            #expect(out.status == 204)
            #expect(try await api.call(.get, "/api/v1/me", token: token3).status == 401)
            #expect(try await api.call(.post, "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(refresh3)"}"#).status == 401)
            #expect(try await api.call(.get, "/api/v1/me", token: second).status == 200)
            #expect(try await api.call(.post, "/api/v1/auth/signout").status == 401)

            let all = try await api.call(.post, "/api/v1/auth/signout-all", token: second)
            #expect(all.status == 204)
            #expect(try await api.call(.get, "/api/v1/me", token: second).status == 401)
            #expect(try await api.call(.get, "/api/v1/me", token: newAccess).status == 401)
        }
    }

    @Test func videosReadChangeDelete() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let owner = try await api.signUp("owner")
            let video = try await fixture.makeVideo(owner: "owner", title: "Sunrise over the bay", tags: ["sea", "dawn"])
            let got = try await api.call(.get, "/api/v1/videos/\(video.id)")
            #expect(got.status == 200)
            #expect(got["id"] as? String == video.id.description)
            #expect(got["title"] as? String == "Sunrise over the bay")
            #expect(got["tags"] as? [String] == ["sea", "dawn"])
            #expect(got["owner"] as? String == "owner")
            #expect(got["status"] as? String == "ready")
            #expect(got["visibility"] as? String == "public")
            #expect(got["duration"] as? Double == 12)
            #expect(got["progress"] as? Double == 1)
            #expect(got["views"] as? Int == 0)
            #expect((got["rating"] as? [String: Any])?["count"] as? Int == 0)
            #expect(got.object.keys.contains("failureReason"))
            #expect(got["playbackUrl"] as? String == "/media/videos/\(video.id)/hls/master.m3u8")
            #expect(got["posterUrl"] as? String == "/media/videos/\(video.id)/poster.jpg")
            #expect(got["storyboardUrl"] as? String == "/media/videos/\(video.id)/storyboard.vtt")
            #expect(try await api.call(.head, "/api/v1/videos/\(video.id)").status == 200)

            let changed = try await api.call(.patch, "/api/v1/videos/\(video.id)", token: owner,
                                             json: #"{"title":"Sunset","tags":["sky"],"visibility":"unlisted"}"#)
            #expect(changed.status == 200)
            #expect(changed["title"] as? String == "Sunset")
            #expect(changed["description"] as? String == "About Sunrise over the bay")
            #expect(changed["visibility"] as? String == "unlisted")
            // Unlisted: the media URLs are signed now.
            let signed = try #require(changed["playbackUrl"] as? String)
            #expect(signed.hasPrefix("/media/videos/\(video.id)/hls/master.m3u8?") && signed.contains("signature="))
            #expect(try await api.call(.patch, "/api/v1/videos/\(video.id)", token: owner, json: "{}").status == 400)

            let deleted = try await api.call(.delete, "/api/v1/videos/\(video.id)", token: owner)
            #expect(deleted.status == 204)
            #expect(try await api.call(.get, "/api/v1/videos/\(video.id)", token: owner).status == 404)
            #expect(try await fixture.platform.blobs.listAll(prefix: "videos/\(video.id)/").isEmpty)
        }
    }

    @Test func processingVideoPlaysForItsOwnerOnly() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let owner = try await api.signUp("maker")
            let other = try await api.signUp("other")
            let video = try await fixture.makeVideo(owner: "maker", status: .processing)
            let mine = try await api.call(.get, "/api/v1/videos/\(video.id)", token: owner)
            #expect(mine.status == 200)
            #expect(mine["status"] as? String == "processing")
            #expect(mine["step"] as? String == "transcode")
            let url = try #require(mine["playbackUrl"] as? String)
            #expect(url.contains("signature="))
            let played = try await api.call(.get, url)
            #expect(played.status == 200)
            #expect(played.header("Cache-Control")?.contains("private") == true)
            #expect(try await api.call(.get, "/api/v1/videos/\(video.id)", token: other).status == 404)
            #expect(try await api.call(.get, "/api/v1/videos/\(video.id)").status == 404)
            #expect(try await api.call(.get, "/media/videos/\(video.id)/hls/master.m3u8").status == 404)
        }
    }

    @Test func userVideosNewestFirstWithCursorAndVisibility() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let owner = try await api.signUp("lister")
            let other = try await api.signUp("looker")
            var ids: [VideoID] = []
            for index in 0..<5 {
                ids.append(try await fixture.makeVideo(owner: "lister", title: "Public \(index)").id)
            }
            let hidden = try await fixture.makeVideo(owner: "lister", title: "Secret", visibility: .private)
            let unlisted = try await fixture.makeVideo(owner: "lister", title: "Unlisted", visibility: .unlisted)
            let processing = try await fixture.makeVideo(owner: "lister", title: "Busy", status: .processing)

            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/api/v1/users/lister/videos?limit=2" + (cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? "")
                let page = try await api.call(.get, path, token: other)
                #expect(page.status == 200)
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == ids.reversed().map(\.description))

            let mine = try await api.call(.get, "/api/v1/users/lister/videos?limit=100", token: owner)
            let all = (mine["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(all == ([processing.id, unlisted.id, hidden.id] + ids.reversed()).map(\.description))
            #expect(try await api.call(.get, "/api/v1/users/nobody/videos").status == 404)
            #expect(try await api.call(.get, "/api/v1/users/lister/videos?cursor=%21%21").status == 400)
            #expect(try await api.call(.get, "/api/v1/users/lister/videos?limit=0").status == 400)
            #expect(try await api.call(.get, "/api/v1/users/lister/videos?limit=101").status == 400)
        }
    }

    @Test func searchFindsPrefixesAndTyposWithHighlights() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let owner = try await api.signUp("searcher")
            let whale = try await fixture.makeVideo(owner: "searcher", title: "Humpback whales singing", tags: ["ocean"])
            _ = try await fixture.makeVideo(owner: "searcher", title: "Mountain goats")
            let secret = try await fixture.makeVideo(owner: "searcher", title: "Humpback secrets", visibility: .private)
            // The replica follows the store's change feed; wait until it has the videos.
            var items: [[String: Any]] = []
            for _ in 0..<200 {
                items = try await api.call(.get, "/api/v1/search?q=humpb").arrayItems
                if !items.isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(items.compactMap { ($0["video"] as? [String: Any])?["id"] as? String } == [whale.id.description])
            let highlight = (items.first?["highlights"] as? [String: Any])?["title"] as? [[Int]]
            #expect(highlight == [[0, 8]])
            let typo = try await api.call(.get, "/api/v1/search?q=humpbak%20whles").arrayItems
            #expect(typo.count == 1)
            let asOwner = try await api.call(.get, "/api/v1/search?q=humpback&sort=newest", token: owner).arrayItems
            #expect(asOwner.compactMap { ($0["video"] as? [String: Any])?["id"] as? String } == [secret.id.description, whale.id.description])
            let browse = try await api.call(.get, "/api/v1/search?limit=24&sort=newest&q=")
            #expect(browse.status == 200)
            #expect(browse.arrayItems.count == 2)
            #expect(browse.object.keys.contains("nextCursor"))
            let filtered = try await api.call(.get, "/api/v1/search?q=&uploader=searcher&minDuration=10&maxDuration=20&after=2000-01-01T00:00:00Z")
            #expect(filtered.arrayItems.count == 2)
            #expect(try await api.call(.get, "/api/v1/search?q=&minDuration=30").arrayItems.isEmpty)
            #expect(try await api.call(.get, "/api/v1/search?sort=loudest").status == 400)
            #expect(try await api.call(.get, "/api/v1/search?cursor=garbage").status == 400)
            #expect(try await api.call(.get, "/api/v1/search?minDuration=-1").status == 400)
            #expect(try await api.call(.get, "/api/v1/search?after=yesterday").status == 400)
            #expect(try await api.call(.get, "/api/v1/search?q=" + String(repeating: "a", count: 2000)).status == 400)
        }
    }

    @Test func reviewsShareLinksAndViews() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let owner = try await api.signUp("creator")
            let fan = try await api.signUp("fan")
            let video = try await fixture.makeVideo(owner: "creator", title: "Review me")
            let first = try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: fan, json: #"{"rating":4,"comment":"Nice"}"#)
            #expect(first.status == 201)
            #expect(first["author"] as? String == "fan")
            #expect(first["rating"] as? Int == 4)
            #expect(first["videoId"] as? String == video.id.description)
            let again = try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: fan, json: #"{"rating":2,"comment":"On second thought"}"#)
            #expect(again.status == 200)
            _ = try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: owner, json: #"{"rating":5,"comment":"Mine"}"#)
            let page = try await api.call(.get, "/api/v1/videos/\(video.id)/reviews?limit=10")
            #expect(page.arrayItems.compactMap { $0["author"] as? String } == ["creator", "fan"])
            #expect(page.arrayItems.last?["comment"] as? String == "On second thought")
            let rated = try await api.call(.get, "/api/v1/videos/\(video.id)")
            #expect((rated["rating"] as? [String: Any])?["average"] as? Double == 3.5)
            #expect((rated["rating"] as? [String: Any])?["count"] as? Int == 2)
            let busy = try await fixture.makeVideo(owner: "creator", status: .processing)
            let early = try await api.call(.post, "/api/v1/videos/\(busy.id)/reviews", token: owner, json: #"{"rating":5,"comment":""}"#)
            #expect(early.status == 409)
            #expect(try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: fan, json: #"{"rating":6}"#).status == 400)

            // curl, as a browser would, names the host the link must point at.
            let shared = try await CurlResponse.fetch(["-X", "POST", "-H", "Authorization: Bearer \(fan)", "http://127.0.0.1:\(api.port)/api/v1/videos/\(video.id)/share"])
            #expect(shared.status == 201)
            let share = try #require(try JSONSerialization.jsonObject(with: shared.body) as? [String: Any])
            let code = try #require(share["code"] as? String)
            #expect(share["url"] as? String == "http://127.0.0.1:\(api.port)/s/\(code)")
            let followed = try await api.call(.get, "/s/\(code)")
            #expect(followed.status == 302)
            #expect(followed.header("Location") == "/watch/\(video.id)")
            #expect(try await api.call(.get, "/s/nosuchcode").status == 404)
            #expect(try await api.call(.get, "/s/%00%ff").status == 404)

            let view = try await api.call(.post, "/api/v1/videos/\(video.id)/views")
            #expect(view.status == 200)
            #expect(view["counted"] as? Bool == true)
            #expect(view["views"] as? Int == 1)
            let repeated = try await api.call(.post, "/api/v1/videos/\(video.id)/views")
            #expect(repeated["counted"] as? Bool == false)
            let signedIn = try await api.call(.post, "/api/v1/videos/\(video.id)/views", token: fan)
            #expect(signedIn["counted"] as? Bool == true)
            #expect(signedIn["views"] as? Int == 2)
            #expect(try await api.call(.get, "/api/v1/healthz")["status"] as? String == "ok")
        }
    }
}

extension Reply {
    var arrayItems: [[String: Any]] { self["items"] as? [[String: Any]] ?? [] }
}
