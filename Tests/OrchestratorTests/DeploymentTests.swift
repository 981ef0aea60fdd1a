import Foundation
import Testing
import TestSupport

/// Running on dedicated boxes: driver labels and selectors, configuration from the environment,
/// Kafka over TLS (stunnel in front of Tansu), and the systemd units.
@Suite(.serialized) struct DeploymentTests {
    @Test func labelsPickTheDriversAndTheEnvironmentConfiguresOne() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        try cluster.startDriver("a1", extraArguments: ["--label", "zone=a", "--label", "size=large"])
        try cluster.startDriver("a2", extraArguments: ["--label", "zone=a"])
        try cluster.startDriver("c1", extraArguments: ["--label", "zone=c"])
        // Flags only from STAMPEDE_* variables.
        let env = try DriverProcess(environment: ["STAMPEDE_BROKERS": cluster.broker.brokers, "STAMPEDE_ID": "env-1",
                                                  "STAMPEDE_TOPIC_PREFIX": cluster.prefix, "STAMPEDE_LABELS": "zone=env,size=small",
                                                  "STAMPEDE_THREADS": "2"])
        defer { env.terminate() }
        try waitUntil(seconds: 30) { try cluster.idleDrivers() == 4 }
        let (_, listing) = try cluster.api("GET", "/drivers")
        let drivers = try #require(try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [[String: Any]])
        let labels = Dictionary(uniqueKeysWithValues: drivers.map { ($0["id"] as? String ?? "", $0["labels"] as? [String: String] ?? [:]) })
        #expect(labels["a1"] == ["zone": "a", "size": "large"] && labels["env-1"] == ["zone": "env", "size": "small"], "\(labels)")

        let target = "http://127.0.0.1:\(nginx.port)/"
        #expect(try cluster.startTest("sel-a", #"{"message_count_per_driver": 1000, "target": "\#(target)", "driver_selector": {"zone": "a"}}"#) == 202)
        let a = try cluster.waitForTest("sel-a")
        let reportA = try #require(a["report"] as? [String: Any])
        #expect((reportA["drivers"] as? [String])?.sorted() == ["a1", "a2"] && reportA["requests"] as? Int == 2000, "\(reportA)")

        let (created, _) = try cluster.json("POST", "/tests", body: #"{"test_id": "sel-b", "message_count_per_driver": 10, "target": "\#(target)", "driver_selector": {"zone": "b"}}"#)
        #expect(created == 201)
        let (status, answer) = try cluster.json("POST", "/trigger", body: #"{"test_id": "sel-b"}"#)
        #expect(status == 503 && answer["field"] as? String == "driver_selector" && (answer["error"] as? String ?? "").contains("zone=b"),
                "\(status) \(answer)")

        #expect(try cluster.startTest("sel-env", #"{"message_count_per_driver": 500, "target": "\#(target)", "driver_selector": {"zone": "env"}}"#) == 202)
        let e = try cluster.waitForTest("sel-env")
        let reportE = try #require(e["report"] as? [String: Any])
        #expect(reportE["drivers"] as? [String] == ["env-1"] && reportE["responses"] as? Int == 500, "\(reportE)")
        #expect(try nginx.accessLogLines(expecting: 2500) == 2500)
    }

    @Test func kafkaOverTLSWithTheCAWorksAndWithoutItSaysWhy() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-kafka-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let openssl = try runCommand(URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", ca])
        #expect(openssl.status == 0)
        // Tansu speaks plain Kafka; stunnel puts TLS in front, on the port Tansu advertises.
        let tlsPort = freePort()
        let broker = try TansuBroker(advertisedPort: tlsPort)
        defer { broker.stop() }
        let conf = dir.appendingPathComponent("stunnel.conf").path
        try "foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:\(tlsPort)\nconnect = 127.0.0.1:\(broker.port)\ncert = \(ca)\nkey = \(key)\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let stunnel = try ServerProcess(URL(fileURLWithPath: "/usr/bin/stunnel4"), [conf], port: tlsPort)
        defer { stunnel.stop() }
        let brokers = "127.0.0.1:\(tlsPort)"
        let secret = "hunter2-\(UUID().uuidString.prefix(6))"
        let tls = ["--kafka-property", "security.protocol=SSL", "--kafka-property", "ssl.ca.location=\(ca)",
                   "--kafka-property", "ssl.key.password=\(secret)"]
        let prefix = uniqueTopicPrefix()
        let apiPort = freePort()
        let orchestratorLog = dir.appendingPathComponent("orchestrator.log")
        FileManager.default.createFile(atPath: orchestratorLog.path, contents: nil)
        let orchestrator = Process()
        orchestrator.executableURL = stampedeBinary
        orchestrator.arguments = ["orchestrator", "--listen", "127.0.0.1:\(apiPort)", "--brokers", brokers, "--topic-prefix", prefix,
                                  "--reports-dir", dir.appendingPathComponent("reports").path] + tls
        orchestrator.standardOutput = FileHandle.nullDevice
        orchestrator.standardError = try FileHandle(forWritingTo: orchestratorLog)
        try orchestrator.run()
        defer { orchestrator.terminate(); orchestrator.waitUntilExit() }
        try waitForPort(apiPort, timeout: 30)
        let logs = (1...2).map { dir.appendingPathComponent("d\($0).log") }
        let drivers = try (1...2).map { try DriverProcess(brokers: brokers, id: "d\($0)", prefix: prefix, extraArguments: tls, log: logs[$0 - 1]) }
        defer { for d in drivers { d.terminate() } }
        func api(_ method: String, _ path: String, _ body: String? = nil) throws -> (Int, [String: Any]) {
            let (status, text) = try apiCall(port: apiPort, method, path, body: body)
            return (status, (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:])
        }
        try waitUntil(seconds: 40) {
            let (_, text) = try apiCall(port: apiPort, "GET", "/drivers")
            return ((try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []).filter { $0["state"] as? String == "idle" }.count == 2
        }
        #expect(try api("POST", "/tests", #"{"test_id": "tls-1", "message_count_per_driver": 3000, "target": "http://127.0.0.1:\#(nginx.port)/"}"#).0 == 201)
        #expect(try api("POST", "/trigger", #"{"test_id": "tls-1"}"#).0 == 202)
        var detail: [String: Any] = [:]
        try waitUntil(seconds: 60) {
            detail = try api("GET", "/tests/tls-1").1
            return detail["status"] as? String == "done"
        }
        #expect((detail["report"] as? [String: Any])?["responses"] as? Int == 6000)
        #expect(try nginx.accessLogLines(expecting: 6000) == 6000)
        orchestrator.terminate()
        orchestrator.waitUntilExit()
        for d in drivers { d.terminate() }
        let allLogs = try ([orchestratorLog] + logs).map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        #expect(!allLogs.contains(secret), "a secret reached a log")
        #expect(allLogs.contains("ssl.key.password=[redacted]"))

        // Without the CA the broker's certificate does not verify: start-up fails and says so.
        let noCA = try runCommand(stampedeBinary, ["orchestrator", "--listen", "127.0.0.1:\(freePort())", "--brokers", brokers,
                                                   "--topic-prefix", uniqueTopicPrefix(), "--reports-dir", dir.path,
                                                   "--kafka-property", "security.protocol=SSL"], timeout: 60)
        #expect(noCA.status == 1 && noCA.stderr.contains("certificate verify failed"), "\(noCA.stderr.suffix(600))")
        let bogus = try runCommand(stampedeBinary, ["driver", "--brokers", brokers, "--kafka-property", "ssl.no.such.thing=1"])
        #expect(bogus.status == 2 && bogus.stderr.contains("ssl.no.such.thing"), "\(bogus.stderr)")
    }

    @Test func systemdUnitsVerify() throws {
        for unit in ["stampede-driver.service", "stampede-orchestrator.service"] {
            // verify checks that ExecStart's binary exists: point it at the one built here.
            let text = try String(contentsOf: repositoryRoot.appendingPathComponent("deploy/systemd/\(unit)"), encoding: .utf8)
                .replacingOccurrences(of: "/opt/stampede/bin/stampede", with: stampedeBinary.path)
            let path = try temporaryFile(unit, text)
            let verify = try runCommand(URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["verify", path], timeout: 60)
            #expect(verify.status == 0 && verify.stderr.isEmpty, "\(unit): \(verify.stderr)")
        }
    }
}
