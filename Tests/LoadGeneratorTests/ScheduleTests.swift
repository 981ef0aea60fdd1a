import Testing
@testable import LoadGenerator
import HTTP1
import StampedeModel

/// The schedule in memory: instants in, decisions out, no sockets and no reactor. A worker is
/// played by the tests: each connection sends when the schedule says, on a clock the test moves.
@Suite struct ScheduleTests {
    static let second: UInt64 = 1_000_000_000
    static let t0: UInt64 = 50 * second

    static func spec(_ mode: LoadMode, connections: Int, stop: StopCondition = .duration(2), pacing: Pacing? = nil,
                     pacesSessions: Bool = false) throws -> LoadSpec {
        var spec = LoadSpec(target: try TargetURL(parsing: "http://127.0.0.1:8080/"))
        spec.mode = mode
        spec.connections = connections
        spec.stop = stop
        spec.pacing = pacing
        spec.pacesSessions = pacesSessions
        return spec
    }

    /// Plays a paced schedule to its end: every connection sends each slot as it comes due
    /// (responses take no time), until the schedule retires it. Returns the send instants.
    static func playPaced(_ schedule: inout Schedule, connections: Int) -> [UInt64] {
        var sent: [UInt64] = []
        for i in 0..<connections {
            var scheduled = 0
            while true {
                let due = schedule.sendTime(connection: i, scheduled: scheduled)
                let turn = schedule.turn(connection: i, nextSend: due, hasSession: false, hop: false, now: due)
                guard turn == .send else {
                    #expect(turn == .retire)
                    _ = schedule.retired(connection: i, scheduled: scheduled)
                    break
                }
                _ = schedule.spend()
                sent.append(due)
                scheduled += 1
            }
        }
        return sent
    }

    @Test func aConstantRateSendsExactlyRateTimesDurationSharedByTwoWorkers() throws {
        // 1,000 requests/s for 2 s over 7 connections, split 4 + 3 between two threads.
        let spec = try Self.spec(.tsunami, connections: 7, pacing: .rate(1_000))
        var first = Schedule(spec, connections: 4, offset: 0, budget: .max, timeoutNs: Self.second)
        var second = Schedule(spec, connections: 3, offset: 4, budget: .max, timeoutNs: Self.second)
        _ = first.begin(at: Self.t0)
        _ = second.begin(at: Self.t0)
        let sends = (Self.playPaced(&first, connections: 4) + Self.playPaced(&second, connections: 3)).sorted()
        #expect(sends.count == 2_000)
        #expect(sends.first == Self.t0)
        // Slot n at n ms: no two at once, none at or past the end.
        #expect(sends == (0..<2_000).map { Self.t0 + UInt64($0) * 1_000_000 })
        #expect(first.unsentPerSecond.isEmpty && second.unsentPerSecond.isEmpty)
    }

    @Test func aDelayPacesEachConnection() throws {
        // 4 connections, one request each every 100 ms: 40 requests/s, 80 in 2 s.
        let spec = try Self.spec(.tsunami, connections: 4, pacing: .delayMs(100))
        var schedule = Schedule(spec, connections: 4, offset: 0, budget: .max, timeoutNs: Self.second)
        _ = schedule.begin(at: Self.t0)
        let sends = Self.playPaced(&schedule, connections: 4)
        #expect(sends.count == 80)
        // Connection 1's slots are 25 ms after connection 0's.
        #expect(schedule.sendTime(connection: 1, scheduled: 0) == Self.t0 + 25_000_000)
        #expect(schedule.sendTime(connection: 0, scheduled: 1) == Self.t0 + 100_000_000)
    }

    @Test func stagesSendTheIntegralOfTheRate() throws {
        // 0 -> 100/s over 2 s (100 requests), then 100/s for 1 s (100 more).
        let profile = StageProfile(start: 0, stages: [Stage(durationS: 2, target: 100), Stage(durationS: 1, target: 100)])
        let spec = try Self.spec(.tsunami, connections: 5, stop: .stages(profile))
        var schedule = Schedule(spec, connections: 5, offset: 0, budget: .max, timeoutNs: Self.second)
        _ = schedule.begin(at: Self.t0)
        let sends = Self.playPaced(&schedule, connections: 5).sorted()
        #expect(sends.count == 200)
        // The ramp sends a quarter of its requests in its first half: 25 in the first second.
        #expect(sends.filter { $0 < Self.t0 + Self.second }.count == 25)
        #expect(sends.filter { $0 >= Self.t0 + 2 * Self.second }.count == 100)
    }

    @Test func slotsNotSentAreUnsentByTheSecondTheyWereDue() throws {
        // 10/s for 3 s on 2 connections; connection 1 gives up after its first 4 slots (0.1,
        // 0.3, 0.5, 0.7 s), so its 11 later ones (0.9 ... 2.9 s) are unsent: 1 + 5 + 5.
        let spec = try Self.spec(.tsunami, connections: 2, stop: .duration(3), pacing: .rate(10))
        var schedule = Schedule(spec, connections: 2, offset: 0, budget: .max, timeoutNs: Self.second)
        _ = schedule.begin(at: Self.t0)
        #expect(schedule.retired(connection: 0, scheduled: 15) == 0)
        #expect(schedule.retired(connection: 1, scheduled: 4) == 11)
        #expect(schedule.unsentPerSecond == [1, 5, 5])
    }

    @Test func aPacedConnectionWaitsForItsSlotAndAHopDoesNot() throws {
        let spec = try Self.spec(.tsunami, connections: 1, stop: .duration(1), pacing: .rate(10))
        var schedule = Schedule(spec, connections: 1, offset: 0, budget: .max, timeoutNs: Self.second)
        _ = schedule.begin(at: Self.t0)
        let slot = schedule.sendTime(connection: 0, scheduled: 3)
        #expect(schedule.turn(connection: 0, nextSend: slot, hasSession: false, hop: false, now: Self.t0) == .wait(until: slot))
        #expect(schedule.turn(connection: 0, nextSend: slot, hasSession: false, hop: true, now: Self.t0) == .send)
        // The 11th slot is at the end: not part of the run.
        let end = schedule.sendTime(connection: 0, scheduled: 10)
        #expect(end == Self.t0 + Self.second)
        #expect(schedule.turn(connection: 0, nextSend: end, hasSession: false, hop: false, now: end) == .retire)
        // A reactor running late still sends what was due, for a second past the end.
        #expect(!schedule.isPastEnd(Self.t0 + Self.second + Self.second / 2))
        #expect(schedule.isPastEnd(Self.t0 + 2 * Self.second))
    }

    @Test func theRequestBudgetIsSharedByTheConnections() throws {
        let spec = try Self.spec(.avalanche, connections: 3, stop: .requests(5))
        var schedule = Schedule(spec, connections: 3, offset: 0, budget: 5, timeoutNs: Self.second)
        _ = schedule.begin(at: Self.t0)
        #expect(!schedule.isPastEnd(.max - Self.second))
        var sent = 0, turnOfConnection = 0
        while schedule.turn(connection: turnOfConnection, nextSend: 0, hasSession: false, hop: false, now: Self.t0) == .send {
            let last = schedule.spend()
            sent += 1
            #expect(last == (sent == 5))
            turnOfConnection = (turnOfConnection + 1) % 3
        }
        #expect(sent == 5)
        for i in 0..<3 { #expect(schedule.turn(connection: i, nextSend: 0, hasSession: false, hop: false, now: Self.t0) == .retire) }
    }

    @Test func aRampOpensAndClosesConnectionsAcrossThreads() throws {
        // Avalanche stages: 0 -> 10 connections over 10 s, down to 2 over the next 4 s; threads
        // of 6 and 4 connections.
        let profile = StageProfile(start: 0, stages: [Stage(durationS: 10, target: 10), Stage(durationS: 4, target: 2)])
        let spec = try Self.spec(.avalanche, connections: 10, stop: .stages(profile))
        var first = Schedule(spec, connections: 6, offset: 0, budget: .max, timeoutNs: Self.second)
        var second = Schedule(spec, connections: 4, offset: 6, budget: .max, timeoutNs: Self.second)
        #expect(first.initiallyWanted == 0 && second.initiallyWanted == 0)
        _ = first.begin(at: Self.t0)
        _ = second.begin(at: Self.t0)
        func wanted(at s: Double) -> (Int?, Int?) {
            let now = Self.t0 + UInt64(s * 1e9)
            return (first.follow(now: now), second.follow(now: now))
        }
        #expect(wanted(at: 3) == (3, 0))
        #expect(wanted(at: 8) == (6, 2))
        #expect(wanted(at: 10) == (6, 4))
        // Past the target, a connection whose response ends rests; one inside it sends.
        #expect(first.turn(connection: 5, nextSend: 0, hasSession: false, hop: false, now: Self.t0) == .send)
        #expect(wanted(at: 12) == (6, 0))
        #expect(wanted(at: 13) == (4, 0))
        #expect(first.turn(connection: 4, nextSend: 0, hasSession: false, hop: false, now: Self.t0) == .rest)
        #expect(first.turn(connection: 3, nextSend: 0, hasSession: false, hop: false, now: Self.t0) == .send)
        #expect(first.isPastEnd(Self.t0 + 14 * Self.second) && !first.isPastEnd(Self.t0 + 14 * Self.second - 1))
    }

    @Test func arrivalsWaitForAFreeConnectionAndAreDroppedAfterTheTimeout() throws {
        // 10 sessions/s for 2 s on 2 connections, 300 ms timeout.
        let spec = try Self.spec(.tsunami, connections: 2, pacing: .rate(10), pacesSessions: true)
        var schedule = Schedule(spec, connections: 2, offset: 0, budget: .max, timeoutNs: 300_000_000)
        let ms: UInt64 = 1_000_000
        #expect(schedule.begin(at: Self.t0) == Self.t0)
        // No connection is free: arrivals queue up, and the next one's timer is given.
        #expect(schedule.arrivalsDue(now: Self.t0 + 250 * ms) == Self.t0 + 300 * ms)
        #expect(schedule.turn(connection: 0, nextSend: 0, hasSession: false, hop: false, now: Self.t0) == .awaitArrival)
        #expect(schedule.dispatch(now: Self.t0 + 250 * ms) == nil)
        // Connection 1 frees up: it takes the oldest arrival, timed from its arrival.
        schedule.slotFreed(1)
        #expect(schedule.dispatch(now: Self.t0 + 250 * ms) == .start(connection: 1, arrival: Self.t0))
        #expect(schedule.dispatch(now: Self.t0 + 250 * ms) == nil)
        #expect(schedule.turn(connection: 1, nextSend: 0, hasSession: true, hop: false, now: Self.t0) == .send)
        // At 450 ms, the arrivals of 100 ms (waited 350 ms) is dropped; 200 ms is in time.
        #expect(schedule.arrivalsDue(now: Self.t0 + 450 * ms) == Self.t0 + 500 * ms)
        #expect(schedule.dispatch(now: Self.t0 + 450 * ms) == .drop)
        #expect(schedule.dispatch(now: Self.t0 + 450 * ms) == nil)
        // A connection that retired is never given an arrival, even if it was free.
        schedule.slotFreed(0)
        _ = schedule.retired(connection: 0, scheduled: 0)
        #expect(schedule.dispatch(now: Self.t0 + 450 * ms) == nil)
        schedule.slotFreed(1)
        #expect(schedule.dispatch(now: Self.t0 + 450 * ms) == .start(connection: 1, arrival: Self.t0 + 200 * ms))
        // The last arrival before the end is at 1.9 s: no timer after it; 17 more have come
        // (300 ms ... 1.9 s), and those still waiting at the end are dropped.
        #expect(schedule.arrivalsDue(now: Self.t0 + 1_900 * ms) == nil)
        #expect(schedule.dropWaiting() == 17)
        #expect(schedule.dropWaiting() == 0)
    }

    @Test func arrivalsAreSharedByThreadsExactly() throws {
        // 20 sessions/s for 1 s, threads of 3 and 2 connections: 20 arrivals in all, none twice.
        let spec = try Self.spec(.tsunami, connections: 5, stop: .duration(1), pacing: .rate(20), pacesSessions: true)
        var instants: [UInt64] = []
        for (offset, count) in [(0, 3), (3, 2)] {
            var schedule = Schedule(spec, connections: count, offset: offset, budget: .max, timeoutNs: 10 * Self.second)
            _ = schedule.begin(at: Self.t0)
            _ = schedule.arrivalsDue(now: Self.t0 + 2 * Self.second)
            for i in 0..<count { schedule.slotFreed(i) }
            while case .start(let i, let arrival)? = schedule.dispatch(now: Self.t0 + 2 * Self.second) {
                instants.append(arrival)
                schedule.slotFreed(i)
            }
        }
        // Within a nanosecond of k × 50 ms (the instants are truncated to whole ns).
        let expected = (0..<20).map { Self.t0 + UInt64($0) * 50_000_000 }
        #expect(instants.count == 20)
        #expect(zip(instants.sorted(), expected).allSatisfy { $0 <= $1 && $1 - $0 <= 1 })
    }
}
