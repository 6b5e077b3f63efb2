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

    @Flag(
        help:
            "Probe over HTTPS (the server runs with --tls-cert). Implied, with --insecure unless --ca is given, when SERESNET_TLS_CERT is set: the container's HEALTHCHECK then works with TLS on."
    )
    var tls = false

    @Option(
        help: ArgumentHelp("With --tls: verify the server's certificate against this CA bundle (default: the system's).", valueName: "file")
    )
    var ca: String?

    @Flag(help: "With --tls: accept any certificate (encrypted, not authenticated: a probe of one's own container).")
    var insecure = false

    func run() throws {
        let port = try Environment.int(port, "PORT", default: 8080, range: 1...65535, flagName: "--port")
        // The server's own environment (a container's HEALTHCHECK runs beside it): TLS on means probe over TLS, and a
        // probe of 127.0.0.1 cannot verify a certificate that names the Service.
        let serverHasTLS = !(ProcessInfo.processInfo.environment["SERESNET_TLS_CERT"] ?? "").isEmpty
        let tls = tls || serverHasTLS
        let insecure = insecure || (serverHasTLS && ca == nil && !self.tls)
        if !tls && (ca != nil || insecure) { throw ValidationError("--ca and --insecure need --tls") }
        if ca != nil && insecure { throw ValidationError("--ca and --insecure exclude each other") }
        let scheme: HTTPProbe.TLS? = tls ? (insecure ? .insecure : .verify(caFile: ca)) : nil
        let target = "\(tls ? "https" : "http")://\(host):\(port)\(path)"
        do {
            let status = try HTTPProbe.status(host: host, port: port, path: path, timeout: .seconds(timeout), tls: scheme)
            print("\(target) → \(status)")
            if status != 200 { throw ExitCode(1) }
        } catch let error as SocketError {
            print("\(target) → \(error)")
            throw ExitCode(1)
        } catch let error as TLSConfigurationError {
            print("\(target) → \(error)")
            throw ExitCode(1)
        }
    }
}
