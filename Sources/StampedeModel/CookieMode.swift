/// What a connection slot does with the cookies its responses set (`cookies`, `--cookies`).
public enum CookieMode: String, Sendable, Codable, CaseIterable {
    /// Kept and sent back; with `order: sequence` the jar is emptied when a new pass through the
    /// list (a session) begins, as k6 does. With `order: random` the jar belongs to the connection.
    case session
    /// Kept for as long as the connection slot runs, across its sessions (one user coming back).
    case keep
    /// Never kept or sent (wrk, ab and h2load send no cookies).
    case off
}
