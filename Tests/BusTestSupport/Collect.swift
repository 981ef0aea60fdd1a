import Foundation
import Messaging
import StampedeWire

/// Reads a subscription until `done` holds for what arrived, or `seconds` pass (bounded).
public func collect(_ subscription: BusSubscription, seconds: Double, skipped: @escaping (MessageError) -> Void = { _ in },
                    until done: ([BusMessage]) -> Bool) throws -> [BusMessage] {
    var messages: [BusMessage] = []
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline && !done(messages) {
        messages += try subscription.pollMessages(timeoutMs: 100, skipped: skipped)
    }
    return messages
}

/// Reads until `count` messages arrived or `seconds` passed.
public func collect(_ subscription: BusSubscription, count: Int, seconds: Double,
                    skipped: @escaping (MessageError) -> Void = { _ in }) throws -> [BusMessage] {
    try collect(subscription, seconds: seconds, skipped: skipped) { $0.count >= count }
}
