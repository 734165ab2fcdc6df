import Foundation
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct AccessTokenTests {
    let keyBytes: [UInt8] = (0..<32).map { UInt8($0 * 7 + 3) }
    var keyHex: String { keyBytes.map { String(format: "%02x", $0) }.joined() }

    func claims(at clock: ManualClock, lifetime: TimeInterval = 900) -> AccessTokenClaims {
        AccessTokenClaims(subject: "ada", role: .member, sessionFamily: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 3,
                          issuedAt: clock.now, expiresAt: clock.now.addingTimeInterval(lifetime))
    }

    func base64url(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func tokensAreJWTsThatPyJWTReadsAndWrites() async throws {
        let clock = ManualClock(Date())
        let key = try SigningKey(bytes: keyBytes)
        let signer = AccessTokenSigner(key: key, now: clock.source)
        let token = signer.sign(claims(at: clock))
        let script = """
        import sys, json, time, jwt
        key = bytes.fromhex(sys.argv[1])
        header = jwt.get_unverified_header(sys.argv[2])
        claims = jwt.decode(sys.argv[2], key, algorithms=["HS256"])
        print(json.dumps({"header": header, "claims": claims}, sort_keys=True))
        now = int(time.time())
        print(jwt.encode({"sub": "grace", "role": "admin", "sid": "BBBBBBBBBBBBBBBBBBBBBB", "epoch": 0, "iat": now, "exp": now + 60},
                         key, algorithm="HS256", headers={"kid": sys.argv[3]}))
        """
        let lines = try await python(script, [keyHex, token, key.id]).split(separator: "\n").map(String.init)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: [String: Any]])
        #expect(decoded["header"]?["alg"] as? String == "HS256" && decoded["header"]?["kid"] as? String == key.id)
        #expect(decoded["claims"]?["sub"] as? String == "ada" && decoded["claims"]?["sid"] as? String == "AAAAAAAAAAAAAAAAAAAAAA")
        #expect(decoded["claims"]?["epoch"] as? Int == 3 && decoded["claims"]?["role"] as? String == "member")
        let theirs = try signer.verify(lines[1])
        #expect(theirs.subject == "grace" && theirs.role == .admin && theirs.epoch == 0)
    }

    @Test func expiredAndNotYetValidTokensAreRefused() throws {
        let clock = ManualClock()
        let signer = AccessTokenSigner(key: try SigningKey(bytes: keyBytes), leeway: .seconds(30), now: clock.source)
        let token = signer.sign(claims(at: clock))
        #expect(try signer.verify(token).subject == "ada")
        clock.advance(900 + 29)
        _ = try signer.verify(token)  // within the leeway
        clock.advance(2)
        #expect(throws: VideoStackError.self) { try signer.verify(token) }
        // Issued "in the future" (a clock far ahead): not valid yet.
        let early = ManualClock(clock.now.addingTimeInterval(-120))
        let earlySigner = AccessTokenSigner(key: try SigningKey(bytes: keyBytes), now: early.source)
        let future = signer.sign(claims(at: clock))
        do {
            _ = try earlySigner.verify(future)
            Issue.record("a token issued in the future was accepted")
        } catch let error as VideoStackError {
            #expect(error.code == .unauthenticated && error.message.contains("not valid yet"))
        }
    }

    @Test func otherAlgorithmsAndForgedSignaturesAreRefused() async throws {
        let clock = ManualClock(Date())
        let key = try SigningKey(bytes: keyBytes)
        let signer = AccessTokenSigner(key: key, now: clock.source)
        let good = signer.sign(claims(at: clock))
        let parts = good.split(separator: ".").map(String.init)
        let payload = parts[1]
        // Made by PyJWT: alg=none, HS512 and HS384 with the right key, HS256 with another key.
        let script = """
        import sys, time, jwt
        key = bytes.fromhex(sys.argv[1]); kid = sys.argv[2]; now = int(time.time())
        claims = {"sub": "ada", "role": "admin", "sid": "AAAAAAAAAAAAAAAAAAAAAA", "epoch": 3, "iat": now, "exp": now + 600}
        print(jwt.encode(claims, None, algorithm="none", headers={"kid": kid}))
        print(jwt.encode(claims, key, algorithm="HS512", headers={"kid": kid}))
        print(jwt.encode(claims, key, algorithm="HS384", headers={"kid": kid}))
        print(jwt.encode(claims, b"another key of thirty-two bytes!", algorithm="HS256", headers={"kid": kid}))
        # Signed with the right key and algorithm, but not tokens this server issues or accepts now.
        def signed(**changes):
            c = dict(claims, **changes)
            return jwt.encode({k: v for k, v in c.items() if v is not None}, key, algorithm="HS256", headers={"kid": kid})
        print(signed(sid=None))
        print(signed(role="root"))
        print(signed(exp=now - 100))
        print(signed(nbf=now + 3600))
        print(signed(epoch="three"))
        print(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid, "crit": ["b64"], "b64": False}))
        """
        var forged = try await python(script, [keyHex, key.id]).split(separator: "\n").map(String.init)
        let adminPayload = base64url(#"{"epoch":3,"exp":9999999999,"iat":1,"role":"admin","sid":"AAAAAAAAAAAAAAAAAAAAAA","sub":"ada"}"#)
        forged += [
            // alg=none spelled by hand, with and without a signature part.
            base64url(#"{"alg":"none","kid":"\#(key.id)"}"#) + "." + payload + ".",
            base64url(#"{"alg":"None","kid":"\#(key.id)"}"#) + "." + payload + "." + parts[2],
            base64url(#"{"alg":"hs256","kid":"\#(key.id)"}"#) + "." + payload + "." + parts[2],
            base64url(#"{"alg":"RS256","kid":"\#(key.id)"}"#) + "." + payload + "." + parts[2],
            base64url(#"{"alg":"HS256"}"#) + "." + payload + "." + parts[2],                  // no kid
            base64url(#"{"alg":"HS256","kid":"nope"}"#) + "." + payload + "." + parts[2],    // unknown kid
            base64url(#"{"alg":"HS256","kid":"\#(key.id)","typ":"JWE"}"#) + "." + payload + "." + parts[2],
            base64url(#"{"alg":"HS256","kid":"\#(key.id)","crit":["exp"]}"#) + "." + payload + "." + parts[2],
            parts[0] + "." + adminPayload + "." + parts[2],                                    // payload swapped
            parts[0] + "." + payload + "." + String(parts[2].reversed()),
            parts[0] + "." + payload,                                                          // truncated
            parts[0] + "." + payload + "." + parts[2] + "=",                                   // padded
            parts[0] + "." + payload + "." + String(parts[2].dropLast()),
            parts[0] + ".." + parts[2], "..", "", "not a token", String(repeating: "A", count: 5000),
            base64url("[]") + "." + payload + "." + parts[2], base64url("{") + "." + payload + "." + parts[2],
        ]
        for token in forged {
            do {
                let claims = try signer.verify(token)
                Issue.record("accepted \(token.prefix(60)): \(claims)")
            } catch let error as VideoStackError {
                #expect(error.code == .unauthenticated)
            }
        }
        #expect(try signer.verify(good).role == .member)
        #expect(throws: VideoStackError.self) { try SigningKey(bytes: [1, 2, 3]) }
    }
}
