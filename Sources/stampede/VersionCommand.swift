import ArgumentParser
import COpenSSL
import CRdKafka
import Histogram

/// Stampede's own version.
let stampedeVersion = "0.1.0"

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Stampede's version and the runtime versions of librdkafka, OpenSSL and zlib.",
        discussion: """
            The library versions are the ones loaded at run time, not the headers built against, so \
            this shows which librdkafka the loader actually picked (Stampede needs >= 2.3).
            """)

    func run() throws {
        print("stampede \(stampedeVersion)")
        print("librdkafka \(String(cString: rd_kafka_version_str()))")
        print("openssl \(String(cString: OpenSSL_version(OPENSSL_VERSION)))")
        print("zlib \(zlibRuntimeVersion)")
    }
}
