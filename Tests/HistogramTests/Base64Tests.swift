import Foundation
import Testing
@testable import Histogram

/// The histogram text form's own base64 decoder reads what Foundation's writes and refuses
/// anything but padded base64 (Foundation's reader lets a few of these through: "AB=C", "ABCD=").
@Suite struct Base64Tests {
    @Test func decodesEveryLengthAsFoundationEncodesIt() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Data(bytes).base64EncodedString()
            #expect(Base64.decode(text) == bytes, "length \(length): \(text)")
        }
    }

    @Test(arguments: ["A", "AB", "ABC", "ABCDE", "AB=C", "=ABC", "A===", "AB C", "ABC\u{e9}", "ABCD=", "AB-_", "A=B=", "ABC==="])
    func refusesWhatIsNotPaddedBase64(text: String) {
        #expect(Base64.decode(text) == nil, "\(text)")
    }

    @Test func aHistogramSurroundedByWhitespaceStillReads() throws {
        var h = HDRHistogram()
        h.record(1_234)
        #expect(try HDRHistogram(base64: "\n " + h.encodeBase64() + "\t\r\n") == h)
        #expect(throws: HistogramError.self) { try HDRHistogram(base64: "\u{a0}" + h.encodeBase64() + "x") }
    }
}
