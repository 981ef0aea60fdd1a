import ArgumentParser
import Foundation
import Orchestrator
import StampedeModel
import StampedeWire
import Synchronization

/// `stampede run`'s steering: keys on a terminal (`+`/`-` the rate or users by 10 %, `p` pause,
/// `r` resume, `q` stop) and `--control-file` lines, each sent to the embedded orchestrator as
/// the API's `PATCH`/`pause`/`resume`/`stop` would be.
final class RunControl: @unchecked Sendable {
    /// One control line: `[AT_S] COMMAND [VALUE] [SCENARIO]`.
    struct Command: Equatable {
        var atS: Double?
        var verb: String
        var value: Double?
        var scenario: String?
    }

    static let verbs: Set<String> = ["rate", "connections", "session_rate", "pause", "resume", "stop", "+", "-"]

    private let orchestrator: Orchestrator
    private let testID: String
    private let config: TestConfig
    /// What the progress line shows after the figures: the last change, or paused.
    let note = Mutex<String>("")
    /// Set when the test has ended: the key and file readers stop.
    let finished = Atomic<Bool>(false)
    private let load = Mutex<[String: (field: String, value: Double)]>([:])

    init(orchestrator: Orchestrator, testID: String, config: TestConfig) {
        self.orchestrator = orchestrator
        self.testID = testID
        self.config = config
        var start: [String: (String, Double)] = [:]
        for s in config.scenarios {
            switch (s.load.mode, s.load.pacing) {
            case (.tsunami, .rate(let r)?): start[s.name] = (s.load.pacesSessions ? "session_rate" : "rate", r)
            case (.avalanche, _): start[s.name] = ("connections", Double(s.load.connections))
            default: break
            }
        }
        load.withLock { $0 = start }
    }

    /// Parses a control line (`# comment` and blank lines: nil).
    static func parse(_ line: String) throws(ValidationError) -> Command? {
        let words = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].split(separator: " ").map(String.init)
        guard !words.isEmpty else { return nil }
        var rest = words[...]
        var command = Command(verb: "")
        if let at = Double(rest.first!), rest.count > 1 {
            guard at >= 0, at.isFinite else { throw ValidationError("'\(line)': the time must be seconds from the start, got \(at)") }
            command.atS = at
            rest = rest.dropFirst()
        }
        command.verb = rest.removeFirst()
        guard verbs.contains(command.verb) else {
            throw ValidationError("'\(line)': unknown command '\(command.verb)' (known: \(verbs.sorted().joined(separator: ", ")))")
        }
        if ["rate", "connections", "session_rate"].contains(command.verb) {
            guard let text = rest.first, let v = Double(text), v > 0 else { throw ValidationError("'\(line)': \(command.verb) needs a positive number") }
            command.value = v
            rest = rest.dropFirst()
        }
        command.scenario = rest.first
        if rest.count > 1 { throw ValidationError("'\(line)': unexpected '\(rest.dropFirst().joined(separator: " "))'") }
        return command
    }

    /// Carries a command out on the orchestrator's thread; returns what happened (for the progress line).
    @discardableResult
    func perform(_ command: Command) -> String {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<String>("")
        let box = UncheckedSendable(self)
        orchestrator.perform {
            let text = box.value.carryOut(command)
            outcome.withLock { $0 = text }
            done.signal()
        }
        done.wait()
        let text = outcome.withLock { $0 }
        note.withLock { $0 = text }
        return text
    }

    /// Orchestrator thread only.
    private func carryOut(_ command: Command) -> String {
        do throws(TestBookError) {
            switch command.verb {
            case "pause": _ = try orchestrator.pauseTest(id: testID, paused: true); return "PAUSED (r resumes)"
            case "resume": _ = try orchestrator.pauseTest(id: testID, paused: false); return "resumed"
            case "stop": try orchestrator.stopTest(id: testID); return "stopping"
            default: break
            }
            var changes: [(scenario: String, field: String, value: Double)] = []
            let names = command.scenario.map { [$0] } ?? config.scenarios.map(\.name)
            for name in names {
                guard let now = load.withLock({ $0[name] }) else { continue }
                switch command.verb {
                case "+", "-":
                    let factor = command.verb == "+" ? 1.1 : 1 / 1.1
                    var v = now.value * factor
                    if now.field == "connections" { v = Swift.max(1, command.verb == "+" ? Swift.max(v.rounded(), now.value + 1) : Swift.min(v.rounded(), now.value - 1)) }
                    changes.append((name, now.field, v))
                default:
                    changes.append((name, command.verb, command.value ?? 0))
                }
            }
            guard !changes.isEmpty else { return "no scenario to change" }
            let body: JSONValue
            if config.hasScenarios {
                body = .object(["scenarios": .object(Dictionary(uniqueKeysWithValues: changes.map { ($0.scenario, JSONValue.object([$0.field: .number($0.value)])) }))])
            } else {
                body = .object([changes[0].field: .number(changes[0].value)])
            }
            let records = try orchestrator.changeTest(id: testID, json: Array(body.text.utf8))
            load.withLock { l in for r in records { if let v = r.to.number { l[r.scenario] = (r.field, v) } } }
            return records.map { "\($0.field) \(formatted($0.to))" + (config.hasScenarios ? " (\($0.scenario))" : "") }.joined(separator: ", ")
        } catch {
            return "refused: \(error)"
        }
    }

    private func formatted(_ v: ChangeRecord.Value) -> String {
        switch v {
        case .number(let n): return n == n.rounded() ? String(Int(n)) : String(format: "%.1f", n)
        case .flag(let b): return b ? "on" : "off"
        }
    }

    /// Reads keys from a terminal until `finished` (stdin in raw mode, put back as it was).
    func readKeys() {
        guard isatty(STDIN_FILENO) == 1 else { return }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        var pollSet = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        while !finished.load(ordering: .relaxed) {
            guard poll(&pollSet, 1, 200) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(STDIN_FILENO, &byte, 1) == 1 else { return }
            switch Character(UnicodeScalar(byte)) {
            case "+", "=": perform(Command(verb: "+"))
            case "-", "_": perform(Command(verb: "-"))
            case "p": perform(Command(verb: "pause"))
            case "r": perform(Command(verb: "resume"))
            case "q": perform(Command(verb: "stop"))
            default: continue
            }
        }
    }

    /// Carries out a control file's lines: timed ones at their second after `startAtMs` (sent
    /// ahead by the orchestrator's lead, so they apply then), others as they are read (a FIFO
    /// a script writes to works too).
    func follow(file: FileHandle, path: String, startAtMs: Int64) {
        var buffer = Data()
        while !finished.load(ordering: .relaxed) {
            let chunk = file.availableData
            if chunk.isEmpty { return }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                let command: Command?
                do { command = try Self.parse(line) } catch {
                    printError("stampede run: --control-file \(path): \(error.message)")
                    continue
                }
                guard let command else { continue }
                if let at = command.atS {
                    let due = Double(startAtMs) / 1000 + at - Double(Orchestrator.changeLeadMs) / 1000
                    while !finished.load(ordering: .relaxed), Date().timeIntervalSince1970 < due { usleep(10_000) }
                }
                guard !finished.load(ordering: .relaxed) else { return }
                let outcome = perform(command)
                printError("control: \(line.trimmingCharacters(in: .whitespaces)) -> \(outcome)")
            }
        }
    }
}
