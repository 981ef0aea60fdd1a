import ArgumentParser
import Foundation

/// `STAMPEDE_<FLAG>` for every flag of `orchestrator` and `driver` (upper case, dashes as
/// underscores: `STAMPEDE_BROKERS`, `STAMPEDE_REPORTS_DIR`): appended to the command line when
/// the flag is not on it, so a flag always beats the variable and every value goes through the
/// same parsing and checks. Options whose help says "repeatable" take a comma-separated list;
/// flags without a value take true/false. `STAMPEDE_LABELS=zone=a,size=large` sets `--label`.
enum EnvironmentFlags {
    static let commands: [String: ParsableCommand.Type] = ["orchestrator": OrchestratorCommand.self, "driver": DriverCommand.self]

    /// The arguments with the environment's flags added.
    /// - Throws: `ValidationError` for a flag variable that is neither true nor false.
    static func apply(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        guard let name = arguments.first, let command = commands[name],
              !arguments.contains("--help"), !arguments.contains("-h") else { return arguments }
        var out = arguments
        for option in options(of: command) {
            let variable = "STAMPEDE_" + option.flag.dropFirst(2).uppercased().replacingOccurrences(of: "-", with: "_")
            let aliases = option.flag == "--label" ? [variable, "STAMPEDE_LABELS"] : [variable]
            guard let value = aliases.lazy.compactMap({ environment[$0] }).first,
                  !arguments.contains(where: { $0 == option.flag || $0.hasPrefix(option.flag + "=") }) else { continue }
            if !option.takesValue {
                switch value.lowercased() {
                case "1", "true", "yes", "on": out.append(option.flag)
                case "0", "false", "no", "off", "": break
                default: throw ValidationError("\(variable): expected true or false for \(option.flag), got '\(value)'")
                }
            } else if option.repeatable {
                for item in value.split(separator: ",") { out += [option.flag, String(item).trimmingCharacters(in: .whitespaces)] }
            } else {
                out += [option.flag, value]
            }
        }
        return out
    }

    /// The long flags of a command, read from its own help (so names set with `customLong` count).
    static func options(of command: ParsableCommand.Type) -> [(flag: String, takesValue: Bool, repeatable: Bool)] {
        let lines = command.helpMessage(columns: 10_000).split(separator: "\n")
        var found: [(String, Bool, Bool)] = []
        for line in lines where line.hasPrefix("  -") {
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard let k = words.firstIndex(where: { $0.hasPrefix("--") }) else { continue }
            let flag = words[k].trimmingCharacters(in: CharacterSet(charactersIn: ","))
            guard flag != "--help", flag != "--version" else { continue }
            let takesValue = k + 1 < words.count && words[k + 1].hasPrefix("<")
            found.append((flag, takesValue, line.contains("repeatable")))
        }
        return found
    }
}
