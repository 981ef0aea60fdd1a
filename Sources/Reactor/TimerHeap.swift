/// A binary min-heap of deadlines. Entries are never removed early: owners cancel by ignoring a
/// fired entry whose token they no longer expect (lazy deletion keeps push and pop O(log n) and
/// allocation-free once the array has grown).
struct TimerHeap {
    struct Entry {
        var deadline: UInt64
        var handler: Int32
        var token: Int
    }

    private(set) var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var earliest: UInt64? { entries.first?.deadline }
    var count: Int { entries.count }

    init(capacity: Int = 1024) { entries.reserveCapacity(capacity) }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < entries.count else { break }
                var smallest = left
                if left + 1 < entries.count && entries[left + 1].deadline < entries[left].deadline { smallest = left + 1 }
                guard entries[smallest].deadline < entries[parent].deadline else { break }
                entries.swapAt(smallest, parent)
                parent = smallest
            }
        }
        return first
    }
}
