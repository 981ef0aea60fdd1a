import Patterns
@testable import Sessions
import StampedeModel
import Testing

/// The jar against RFC 6265's rules that decide what a load test sends: in memory, with the
/// time passed in.
@Suite struct CookieJarTests {
    let now: Int64 = 1_700_000_000

    @Test func aSessionCookieGoesBackToItsHostInOneHeader() {
        var jar = CookieJar()
        jar.store(setCookie: "sid=abc123; Path=/; HttpOnly", host: "shop.test", path: "/login", now: now)
        jar.store(setCookie: "theme=dark", host: "shop.test", path: "/login", now: now)
        jar.store(setCookie: "aisle=7", host: "shop.test", path: "/shop/login", now: now)
        // theme's default path is / (the directory of /login): both go, in creation order; aisle's
        // is /shop, so it stays there.
        #expect(jar.header(host: "shop.test", path: "/account", secure: false, now: now) == "sid=abc123; theme=dark")
        #expect(jar.header(host: "SHOP.test", path: "/shop/cart", secure: false, now: now) == "aisle=7; sid=abc123; theme=dark")
        // Host-only: not to another host, not even a subdomain.
        #expect(jar.header(host: "api.shop.test", path: "/", secure: false, now: now) == nil)
        #expect(jar.header(host: "other.test", path: "/", secure: false, now: now) == nil)
    }

    @Test func domainCookiesReachSubdomainsButNoOtherSite() {
        var jar = CookieJar()
        jar.store(setCookie: "a=1; Domain=.shop.test", host: "www.shop.test", path: "/", now: now)
        #expect(jar.header(host: "api.shop.test", path: "/x", secure: false, now: now) == "a=1")
        #expect(jar.header(host: "shop.test", path: "/", secure: false, now: now) == "a=1")
        #expect(jar.header(host: "evilshop.test", path: "/", secure: false, now: now) == nil)
        // A host may not set a cookie for another site: refused and counted.
        jar.store(setCookie: "b=2; Domain=bank.test", host: "www.shop.test", path: "/", now: now)
        #expect(jar.dropped == 1 && jar.count == 1)
    }

    @Test func pathsMatchOnSegmentsAndLongerPathsComeFirst() {
        var jar = CookieJar()
        jar.store(setCookie: "root=r; Path=/", host: "h", path: "/", now: now)
        jar.store(setCookie: "cart=c; Path=/cart", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/cart/items?x=1", secure: false, now: now) == "cart=c; root=r")
        #expect(jar.header(host: "h", path: "/cart", secure: false, now: now) == "cart=c; root=r")
        #expect(jar.header(host: "h", path: "/cartoon", secure: false, now: now) == "root=r")
    }

    @Test func secureCookiesGoOverHTTPSOnly() {
        var jar = CookieJar()
        jar.store(setCookie: "s=1; Secure", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now) == nil)
        #expect(jar.header(host: "h", path: "/", secure: true, now: now) == "s=1")
    }

    @Test func maxAgeWinsOverExpiresAndZeroDeletes() {
        var jar = CookieJar()
        jar.store(setCookie: "a=1; Max-Age=60; Expires=Wed, 09 Jun 2001 10:18:14 GMT", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now + 59) == "a=1")
        #expect(jar.header(host: "h", path: "/", secure: false, now: now + 60) == nil)
        jar.store(setCookie: "b=2", host: "h", path: "/", now: now)
        jar.store(setCookie: "b=gone; Max-Age=0", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now) == nil)
        // A date in the past deletes too; one in the future keeps it until then.
        jar.store(setCookie: "c=3; Expires=Thu, 01 Jan 2099 00:00:00 GMT", host: "h", path: "/", now: now)
        jar.store(setCookie: "d=4; Expires=Thu, 01 Jan 1998 00:00:00 GMT", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now) == "c=3")
    }

    @Test func aNewValueReplacesTheOld() {
        var jar = CookieJar()
        jar.store(setCookie: "sid=1", host: "h", path: "/", now: now)
        jar.store(setCookie: "sid=2", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now) == "sid=2" && jar.count == 1)
        #expect(jar.value(named: "sid", host: "h") == "2")
    }

    @Test func limitsAreRFC6265sMinimumsAndTheExcessIsCounted() {
        var jar = CookieJar()
        for k in 0..<55 { jar.store(setCookie: "c\(k)=v", host: "h", path: "/", now: now) }
        #expect(jar.count == 50 && jar.dropped == 5)
        jar.store(setCookie: Substring("big=" + String(repeating: "x", count: 4093)), host: "h", path: "/", now: now)
        #expect(jar.dropped == 6)
        jar.removeAll()
        #expect(jar.isEmpty && jar.header(host: "h", path: "/", secure: false, now: now) == nil)
    }

    @Test func malformedSetCookieIsIgnored() {
        var jar = CookieJar()
        jar.store(setCookie: "novalue", host: "h", path: "/", now: now)
        jar.store(setCookie: "=x", host: "h", path: "/", now: now)
        jar.store(setCookie: " spaced = v ; Max-Age=abc", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now) == "spaced=v")
    }

    @Test func cookieDatesInTheFormsServersSend() {
        let expected: Int64 = 1_623_233_894  // 2021-06-09 10:18:14 UTC
        #expect(CookieDate.parse("Wed, 09 Jun 2021 10:18:14 GMT") == expected)
        #expect(CookieDate.parse("Wednesday, 09-Jun-21 10:18:14 GMT") == expected)
        #expect(CookieDate.parse("Wed Jun  9 10:18:14 2021") == expected)
        #expect(CookieDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(CookieDate.parse("Feb 29 2023 10:00:00") == nil)
        #expect(CookieDate.parse("not a date") == nil)
    }

    /// What a caller may keep a header for: the version moves with every change (a replaced
    /// value too), a path other than "/" makes the header depend on the request, and the first
    /// expiry bounds how long it holds.
    @Test func versionPathAndExpiryTellWhenAHeaderStillHolds() {
        var jar = CookieJar()
        let empty = jar.version
        jar.store(setCookie: "sid=1; Path=/", host: "shop.test", path: "/login", now: 100)
        #expect(jar.version != empty && jar.pathIndependent && jar.earliestExpiry == .max)
        let one = jar.version
        jar.store(setCookie: "sid=2; Path=/", host: "shop.test", path: "/login", now: 100)
        #expect(jar.version != one && jar.header(host: "shop.test", path: "/", secure: false, now: 100) == "sid=2")
        jar.store(setCookie: "cart=9; Path=/cart; Max-Age=60", host: "shop.test", path: "/", now: 100)
        #expect(!jar.pathIndependent && jar.earliestExpiry == 160)
        #expect(jar.header(host: "shop.test", path: "/cart/1", secure: false, now: 159) == "cart=9; sid=2")
        let before = jar.version
        #expect(jar.header(host: "shop.test", path: "/cart/1", secure: false, now: 160) == "sid=2")
        #expect(jar.version != before && jar.pathIndependent && jar.earliestExpiry == .max)
        jar.removeAll()
        #expect(jar.isEmpty)
    }

    /// A login sets its cookie again and again with values of changing length: each new value is
    /// what goes back, the others keep theirs, and the jar's bytes stay bounded (replaced values
    /// are reclaimed, not piled up).
    @Test func valuesOfChangingLengthReplaceInPlaceAndTheStoreStaysBounded() {
        var jar = CookieJar()
        jar.store(setCookie: "theme=dark; Path=/", host: "shop.test", path: "/", now: now)
        for k in 0..<2_000 {
            jar.store(setCookie: "sid=s\(k)\(String(repeating: "x", count: k % 37)); Path=/", host: "shop.test", path: "/login", now: now)
            jar.store(setCookie: "cart=\(k); Path=/cart", host: "shop.test", path: "/", now: now)
            if k % 3 == 0 { jar.store(setCookie: "cart=; Max-Age=0; Path=/cart", host: "shop.test", path: "/", now: now) }
        }
        let last = "s1999" + String(repeating: "x", count: 1999 % 37)
        #expect(jar.header(host: "shop.test", path: "/", secure: false, now: now) == "theme=dark; sid=\(last)")
        #expect(jar.header(host: "shop.test", path: "/cart", secure: false, now: now) == "cart=1999; theme=dark; sid=\(last)")
        #expect(jar.value(named: "sid", host: "SHOP.test") == last)
        #expect(jar.count == 3 && jar.bytes.count < 512)
    }

    /// The attributes of a login's Set-Cookie are parsed once and then compared: a header whose
    /// attributes differ, or that a host may not set, is never answered from that memo.
    @Test func rememberedAttributesNeverOutliveWhatTheyHoldFor() {
        var jar = CookieJar()
        jar.store(setCookie: "a=1; Domain=shop.test; Path=/", host: "evil.test", path: "/", now: now)
        jar.store(setCookie: "a=2; Domain=shop.test; Path=/", host: "www.shop.test", path: "/", now: now)
        #expect(jar.dropped == 1 && jar.header(host: "api.shop.test", path: "/", secure: false, now: now) == "a=2")
        jar.store(setCookie: "s=1; Path=/x", host: "h", path: "/", now: now)
        jar.store(setCookie: "s=2; Path=/x", host: "h", path: "/", now: now)
        jar.store(setCookie: "s=3; Path=/y", host: "h", path: "/", now: now)
        #expect(jar.header(host: "h", path: "/x", secure: false, now: now) == "s=2")
        #expect(jar.header(host: "h", path: "/y", secure: false, now: now) == "s=3")
        jar.store(setCookie: "t=1; Max-Age=10", host: "h", path: "/", now: now)
        jar.store(setCookie: "t=2; Max-Age=10", host: "h", path: "/", now: now + 100)
        #expect(jar.header(host: "h", path: "/", secure: false, now: now + 105) == "t=2")
        #expect(jar.header(host: "h", path: "/", secure: false, now: now + 110) == nil)
    }
}
