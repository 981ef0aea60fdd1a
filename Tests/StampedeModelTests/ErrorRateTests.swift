import StampedeModel
import Testing

/// `error_rate` is one rule everywhere (thresholds, search steps, compare): failed over sent, and
/// a run whose every attempt failed before a request could go out is 100 % failed, not 0 %.
@Suite struct ErrorRateTests {
    @Test func errorsOverRequestsAtMostOne() {
        var e = ErrorCounts()
        #expect(e.rate(per: 0) == 0 && e.rate(per: 10) == 0)
        e.status_5xx = 1
        e.check = 1
        #expect(e.rate(per: 8) == 0.25)
        // Failed connects with no request sent, or more of them than requests: all failed.
        var refused = ErrorCounts()
        refused.connect = 30
        #expect(refused.rate(per: 0) == 1 && refused.rate(per: 10) == 1)
    }
}
