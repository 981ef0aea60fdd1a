/// wrk's flags as wrk users type them: `-t12 -c400 -d30s`, `-H'Accept: */*'`. ArgumentParser reads
/// `-t12` as the short flags `-t -1 -2`; this splits a value-taking short flag from its attached
/// value before parsing, for the commands that take the load flags.
enum AttachedShortValues {
    static let commands: Set<String> = ["bench", "run", "search"]
    /// The short flags of those commands that take a value (`-c`, `-d`, `-t`, `-H`, `-R`, `-m`).
    static let flags: Set<Character> = ["c", "d", "t", "H", "R", "m"]

    static func split(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, commands.contains(command) else { return arguments }
        var out = [command]
        var rest = arguments.dropFirst()[...]
        while let argument = rest.popFirst() {
            if argument == "--" { out.append(argument); out += rest; break }  // after "--": operands only
            if argument.count > 2, argument.first == "-", let flag = argument.dropFirst().first, flags.contains(flag) {
                out += ["-\(flag)", String(argument.dropFirst(2))]
            } else {
                out.append(argument)
            }
        }
        return out
    }
}
