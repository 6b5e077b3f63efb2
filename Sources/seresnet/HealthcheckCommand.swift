import ArgumentParser
import Foundation
import HTTP

/// `seresnet healthcheck`: exit 0 iff the service's readiness endpoint answers 200 (for container
/// HEALTHCHECKs: the runtime image has no curl).
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Probe a running service: exit 0 if GET /readyz (or --path) answers 200, 1 otherwise.")

    @Option(help: "Host to probe.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to probe (default: $PORT, else 8080).")
    var port: Int?

    @Option(help: "Path to probe.")
    var path: String = "/readyz"

    @Option(help: "Give up after this many seconds.")
    var timeout: Int = 2

    func run() throws {
        let port = try Environment.int(port, "PORT", default: 8080, range: 1...65535, flagName: "--port")
        do {
            let status = try HTTPProbe.status(host: host, port: port, path: path, timeout: .seconds(timeout))
            print("\(host):\(port)\(path) → \(status)")
            if status != 200 { throw ExitCode(1) }
        } catch let error as SocketError {
            print("\(host):\(port)\(path) → \(error)")
            throw ExitCode(1)
        }
    }
}
