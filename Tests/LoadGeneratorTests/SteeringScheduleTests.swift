import Testing
@testable import LoadGenerator
import StampedeModel

/// Steering in memory: changes applied to a schedule at instants, the slots and arrivals that
/// follow, and the connections an avalanche wants.
@Suite struct SteeringScheduleTests {
    static let second = ScheduleTests.second
    static let t0 = ScheduleTests.t0

    @Test func aPaceFollowsItsChangesAndLeavesPausesOut() {
        var pace = Pace(base: 400)
        pace.set(1_000, atS: 5)
        pace.set(200, atS: 10)
        #expect(pace.integral(to: 5) == 2_000)
        #expect(pace.integral(to: 10) == 7_000)
        #expect(pace.integral(to: 15) == 8_000)
        #expect(pace.time(atIntegral: 1_999) == 1_999.0 / 400)
        #expect(pace.time(atIntegral: 2_000) == 5)
        #expect(pace.time(atIntegral: 7_100) == 10.5)
        pace.pause(atS: 12)
        #expect(pace.integral(to: 14) == 7_400)
        #expect(pace.time(atIntegral: 7_400) == nil)  // not due until the resume
        pace.set(100, atS: 13)  // while paused: the rate to resume with
        #expect(pace.resume(atS: 14) == 2)
        #expect(pace.integral(to: 15) == 7_500)
        #expect(pace.time(atIntegral: 7_450) == 14.5)
    }

    /// A tsunami at 400/s changed to 1,000 at 5 s and to 200 at 10 s, 15 s: every slot from the
    /// changed integral (8,000 in all), none lost or added at the changes.
    @Test func aPacedScheduleFollowsRateChanges() throws {
        let spec = try ScheduleTests.spec(.tsunami, connections: 8, stop: .duration(15), pacing: .rate(400))
        var a = Schedule(spec, connections: 5, offset: 0, budget: .max, timeoutNs: Self.second)
        var b = Schedule(spec, connections: 3, offset: 5, budget: .max, timeoutNs: Self.second)
        for s in [0, 1] {
            var schedule = s == 0 ? a : b
            _ = schedule.begin(at: Self.t0)
            #expect(schedule.apply(.rate(1_000), at: Self.t0 + 5 * Self.second, pauseExtends: false) == .wakeWaiting)
            #expect(schedule.apply(.rate(200), at: Self.t0 + 10 * Self.second, pauseExtends: false) == .wakeWaiting)
            if s == 0 { a = schedule } else { b = schedule }
        }
        let sends = (ScheduleTests.playPaced(&a, connections: 5) + ScheduleTests.playPaced(&b, connections: 3)).sorted()
        #expect(sends.count == 8_000)
        let perSecond = (0..<15).map { k in sends.filter { ($0 - Self.t0) / Self.second == UInt64(k) }.count }
        #expect(perSecond == Array(repeating: 400, count: 5) + Array(repeating: 1_000, count: 5) + Array(repeating: 200, count: 5))
        #expect(a.unsentPerSecond.isEmpty && b.unsentPerSecond.isEmpty)
    }

    /// Paused from 4 s to 7 s: nothing is due then, and the run still ends at 10 s (the pause
    /// eats into it) unless `pause_extends`.
    @Test func aPauseHoldsEveryConnectionAndEatsIntoTheRun() throws {
        let spec = try ScheduleTests.spec(.tsunami, connections: 4, stop: .duration(10), pacing: .rate(100))
        for extend in [false, true] {
            var schedule = Schedule(spec, connections: 4, offset: 0, budget: .max, timeoutNs: Self.second)
            _ = schedule.begin(at: Self.t0)
            _ = schedule.apply(.pause, at: Self.t0 + 4 * Self.second, pauseExtends: extend)
            let paused = schedule.sendTime(connection: 0, scheduled: 100)
            #expect(paused == .max)
            #expect(schedule.turn(connection: 0, nextSend: paused, hasSession: false, hop: false, now: Self.t0 + 5 * Self.second) == .hold)
            _ = schedule.apply(.resume, at: Self.t0 + 7 * Self.second, pauseExtends: extend)
            let sends = ScheduleTests.playPaced(&schedule, connections: 4)
            #expect(sends.count == (extend ? 1_000 : 700))
            #expect(!sends.contains { $0 >= Self.t0 + 4 * Self.second && $0 < Self.t0 + 7 * Self.second })
            #expect(schedule.stopAt == Self.t0 + (extend ? 13 : 10) * Self.second)
        }
    }

    /// An avalanche allocated for 40 connections on two threads starts with 10 (5 each), is
    /// raised to 40 and lowered to 10; paused, every connection holds.
    @Test func anAvalancheRaisesAndLowersItsUsersOnEveryThread() throws {
        var spec = try ScheduleTests.spec(.avalanche, connections: 10, stop: .duration(30))
        spec.maxConnections = 40
        var a = Schedule(spec, connections: 20, offset: 0, budget: .max, timeoutNs: Self.second)
        var b = Schedule(spec, connections: 20, offset: 20, budget: .max, timeoutNs: Self.second)
        #expect(a.initiallyWanted == 5 && b.initiallyWanted == 5)
        #expect(a.turn(connection: 4, nextSend: 0, hasSession: false, hop: false, now: 0) == .send)
        #expect(a.turn(connection: 5, nextSend: 0, hasSession: false, hop: false, now: 0) == .rest)
        #expect(a.apply(.connections(40), at: Self.t0, pauseExtends: false) == .follow(wanted: 20))
        #expect(b.apply(.connections(40), at: Self.t0, pauseExtends: false) == .follow(wanted: 20))
        #expect(a.apply(.connections(7), at: Self.t0, pauseExtends: false) == .follow(wanted: 3))
        #expect(b.apply(.connections(7), at: Self.t0, pauseExtends: false) == .follow(wanted: 4))
        _ = a.apply(.pause, at: Self.t0, pauseExtends: false)
        #expect(a.turn(connection: 0, nextSend: 0, hasSession: false, hop: false, now: 0) == .hold)
        #expect(a.turn(connection: 0, nextSend: 0, hasSession: true, hop: true, now: 0) == .send)  // a redirect's hop finishes
        _ = a.apply(.resume, at: Self.t0, pauseExtends: false)
        #expect(a.turn(connection: 0, nextSend: 0, hasSession: false, hop: false, now: 0) == .send)
        // A rate on an avalanche is not a setting it has.
        #expect(a.apply(.rate(5), at: Self.t0, pauseExtends: false) == nil)
    }

    /// Sessions arriving at 10/s, raised to 40/s at 2 s: the arrivals follow the new integral.
    @Test func arrivalsFollowASessionRateChange() throws {
        let spec = try ScheduleTests.spec(.tsunami, connections: 4, stop: .duration(4), pacing: .rate(10), pacesSessions: true)
        var schedule = Schedule(spec, connections: 4, offset: 0, budget: .max, timeoutNs: Self.second)
        _ = schedule.begin(at: Self.t0)
        _ = schedule.arrivalsDue(now: Self.t0 + 2 * Self.second - 1)
        guard case .rearmArrivals(let next)? = schedule.apply(.sessionRate(40), at: Self.t0 + 2 * Self.second, pauseExtends: false) else {
            Issue.record("no rearm"); return
        }
        #expect(next == Self.t0 + 2 * Self.second)
        _ = schedule.arrivalsDue(now: Self.t0 + 4 * Self.second)
        var arrivals = 0
        for i in 0..<4 { schedule.slotFreed(i) }
        while let d = schedule.dispatch(now: Self.t0 + 4 * Self.second) {
            if case .start(let i, _) = d { arrivals += 1; schedule.slotFreed(i) }
            if case .drop = d { arrivals += 1 }
        }
        #expect(arrivals == 100)  // 20 in the 2 s before the change, 80 in the 2 s after
    }
}
