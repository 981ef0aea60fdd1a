import HTTP1
import StampedeModel

/// A template compiled for rendering: its pieces as plain values and its literal bytes in one
/// array. Walking `[Template.Part]` copied each part out (a literal's array retained and released)
/// and appended through an array: about 100 instructions a piece (callgrind); a step here costs a
/// load and a copy.
struct RenderPlan: Sendable {
    struct Step: Sendable {
        enum Kind: UInt8, Sendable { case literal, seq, driver, scenario, conn, session, randInt, uuid, row, variable }
        let kind: Kind
        let filter: Template.Filter
        /// A literal's start in `literals`, a row's column, a variable's slot, or randInt's low bound.
        let a: Int64
        /// A literal's byte count, or randInt's high bound.
        let b: Int64
    }

    private let steps: [Step]
    private let literals: [UInt8]

    /// Adjacent literals become one step (fewer pieces to walk per request); empty ones none.
    init(_ parts: [Template.Part]) {
        var literals: [UInt8] = []
        var steps: [Step] = []
        for part in parts {
            if case .literal(let bytes) = part {
                guard !bytes.isEmpty else { continue }
                // Literals are appended in order, so one right after a literal step extends it.
                if let last = steps.last, last.kind == .literal {
                    steps[steps.count - 1] = Step(kind: .literal, filter: .none, a: last.a, b: last.b + Int64(bytes.count))
                } else {
                    steps.append(Step(kind: .literal, filter: .none, a: Int64(literals.count), b: Int64(bytes.count)))
                }
                literals += bytes
            } else {
                steps.append(Self.step(part))
            }
        }
        self.steps = steps
        self.literals = literals
    }

    private static func step(_ part: Template.Part) -> Step {
        switch part {
        case .literal: preconditionFailure("literals are joined by init")
        case .seq: return Step(kind: .seq, filter: .none, a: 0, b: 0)
        case .driver: return Step(kind: .driver, filter: .none, a: 0, b: 0)
        case .scenario: return Step(kind: .scenario, filter: .none, a: 0, b: 0)
        case .conn: return Step(kind: .conn, filter: .none, a: 0, b: 0)
        case .session: return Step(kind: .session, filter: .none, a: 0, b: 0)
        case .randInt(let lo, let hi): return Step(kind: .randInt, filter: .none, a: lo, b: hi)
        case .uuid: return Step(kind: .uuid, filter: .none, a: 0, b: 0)
        case .row(let column, let filter): return Step(kind: .row, filter: filter, a: Int64(column), b: 0)
        case .variable(let slot, let filter): return Step(kind: .variable, filter: filter, a: Int64(slot), b: 0)
        }
    }

    var isEmpty: Bool { steps.isEmpty }

    /// Appends the rendered bytes to `out`.
    func render(into out: inout RenderBuffer, values: RenderValues, random: inout SplitMix64) {
        literals.withUnsafeBytes { literals in
            steps.withUnsafeBufferPointer { steps in
                for step in steps {
                    switch step.kind {
                    case .literal: out.append(UnsafeRawBufferPointer(rebasing: literals[Int(step.a)..<Int(step.a + step.b)]))
                    case .seq: out.append(decimal: Int64(values.sequence))
                    case .conn: out.append(decimal: Int64(values.connection))
                    case .session: out.append(decimal: Int64(values.session))
                    case .driver: out.append(values.workload.driver)
                    case .scenario: out.append(values.workload.scenario)
                    case .randInt:
                        let span = UInt64(bitPattern: step.b &- step.a) &+ 1
                        let offset = span == 0 ? random.next() : random.next(below: span)
                        out.append(decimal: step.a &+ Int64(bitPattern: offset))
                    case .uuid: out.appendUUID(&random)
                    case .row:
                        let rows = values.workload.rows
                        out.append(rows[values.row % rows.count][Int(step.a)], step.filter)
                    case .variable: out.append(values.variables[Int(step.a)], step.filter)
                    }
                }
            }
        }
    }
}
