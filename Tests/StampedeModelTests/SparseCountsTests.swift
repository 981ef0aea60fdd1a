import Foundation
import Messaging
import StampedeModel
import StampedeWire
import Testing

/// Bus messages leave out error kinds that are 0 (most of a second's ~80 `errors` objects are
/// empty); reports and the live feed keep every kind; what was left out reads back as 0.
@Suite struct SparseCountsTests {
    static func interval(errors: ErrorCounts) -> IntervalMessage {
        IntervalMessage(driverID: "d1", testID: "t1", t: 1, requests: 5, responses: 5, errors: errors, bytesRead: 10, histogram: "")
    }

    static func errorsObject(_ json: [UInt8]) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        return try #require(object["errors"] as? [String: Any])
    }

    @Test func aBusMessageCarriesOnlyTheKindsThatHappenedAndReadsBackWhole() throws {
        var errors = ErrorCounts()
        errors.connect = 3
        errors.status_5xx = 2
        let payload = BusMessage.interval(Self.interval(errors: errors)).encoded()
        #expect(try Self.errorsObject(payload).keys.sorted() == ["connect", "status_5xx"])
        let record = BusRecord(topic: .metrics, partition: 0, offset: 0, key: "d1", payload: payload)
        guard case .success(.interval(let back)) = BusMessage.decode(record) else { Issue.record("not decoded"); return }
        #expect(back.errors == errors)
        #expect(back == Self.interval(errors: errors))
        // Nothing went wrong: an empty object.
        #expect(try Self.errorsObject(BusMessage.interval(Self.interval(errors: ErrorCounts())).encoded()).isEmpty)
    }

    @Test func everyKindIsWrittenWhereSparseCountsAreNotAsked() throws {
        var errors = ErrorCounts()
        errors.timeout = 1
        let plain = try JSONEncoder().encode(Self.interval(errors: errors))
        let kinds = try Self.errorsObject(Array(plain))
        #expect(kinds.count == 11 && kinds["timeout"] as? Int == 1 && kinds["connect"] as? Int == 0, "\(kinds)")
    }

    @Test func kindsFromAnOlderOrFullerMessageReadAsBefore() throws {
        // Every kind written (drivers before sparse counts), a null, and a kind this build does not know.
        let json = #"{"connect":1,"tls":0,"timeout":2,"read":0,"write":0,"parse":0,"status_4xx":4,"status_5xx":0,"check":0,"capture":0,"redirects":5,"tls_alert":9}"#
        let errors = try JSONDecoder().decode(ErrorCounts.self, from: Data(json.utf8))
        #expect(errors.connect == 1 && errors.timeout == 2 && errors.status_4xx == 4 && errors.redirects == 5 && errors.total == 12)
        #expect(try JSONDecoder().decode(ErrorCounts.self, from: Data(#"{"read":null}"#.utf8)) == ErrorCounts())
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ErrorCounts.self, from: Data(#"{"read":"x"}"#.utf8)) }
    }
}
