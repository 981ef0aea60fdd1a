import Foundation
import HTTP1
import StampedeModel
import Synchronization

/// What a run sends, prepared once and shared read-only by its workers: the requests as
/// programs, the names results are counted under, the random mix, the data rows and the
/// driver's sequence numbers.
final class Workload: Sendable {
    let programs: [RequestProgram]
    /// The distinct origins (scheme, host, port) the requests go to, the first request's first.
    let origins: [TargetURL]
    /// Distinct request names, in order of first appearance.
    let names: [String]
    /// Results are counted per name too (the list form).
    let tracksNames: Bool
    let order: RequestOrder
    let picker: WeightedPicker
    let seed: UInt64
    let shard: Shard
    let driver: [UInt8]
    let rows: [[[UInt8]]]
    /// This driver's requests that took a sequence number so far (all threads).
    private let sequenceCount = Atomic<Int>(0)

    init(_ spec: LoadSpec) throws {
        let compiled = try spec.compiled()
        var names: [String] = []
        var origins: [TargetURL] = []
        var programs: [RequestProgram] = []
        for request in compiled {
            let name = request.spec.displayName
            let index = names.firstIndex(of: name) ?? { names.append(name); return names.count - 1 }()
            let origin = origins.firstIndex { $0.sameOrigin(request.origin) } ?? { origins.append(request.origin); return origins.count - 1 }()
            programs.append(try RequestProgram(request, nameIndex: index, origin: origin))
        }
        self.programs = programs
        self.origins = origins
        self.names = names
        tracksNames = spec.listForm
        order = spec.order
        picker = WeightedPicker(weights: spec.requests.map(\.weight))
        seed = spec.seed ?? UInt64.random(in: 0...UInt64.max)
        shard = spec.shard
        driver = Array(spec.driverName.utf8)
        rows = spec.data?.rows.map { $0.map { Array($0.utf8) } } ?? []
    }

    /// The next test-wide sequence number for this driver (`{{seq}}`, and which data row).
    @inline(__always)
    func nextSequence() -> Int {
        shard.sequence(sequenceCount.add(1, ordering: .relaxed).oldValue)
    }

    /// A worker's generator: the test's seed, this driver and this thread (so no two draw alike).
    func random(thread: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(shard.index) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(thread) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
