// A trivial-handler HTTP server for Benchmarks/bench-http.sh and bench-https.sh: measures the HTTP layer alone.
//   http-bench-server [port] [host] [certificate-chain.pem private-key.pem]   (with the pair: HTTPS)
import Dispatch
import Foundation
import HTTP

let arguments = CommandLine.arguments
var configuration = HTTPServer.Configuration()
configuration.port = arguments.count > 1 ? Int(arguments[1]) ?? 8080 : 8080
configuration.host = arguments.count > 2 ? arguments[2] : "127.0.0.1"
if arguments.count > 4 {
    do {
        configuration.tls = try TLSContextStore(files: .init(certificateChain: arguments[3], privateKey: arguments[4]))
    } catch {
        FileHandle.standardError.write(Data("http-bench-server: \(error)\n".utf8))
        exit(1)
    }
}

var router = Router()
router.add(.get, "/") { _, respond in respond(.text("ok\n")) }
router.add(.post, "/echo") { request, respond in respond(HTTPResponse(body: request.body)) }

let server = HTTPServer(configuration: configuration, router: router)
do {
    let port = try server.start()
    print("http-bench-server listening on \(configuration.host):\(port)")
    fflush(stdout)
} catch {
    FileHandle.standardError.write(Data("http-bench-server: \(error)\n".utf8))
    exit(1)
}
let signals = installSignalHandlers(for: server, beforeShutdown: {}, onStopped: { exit(0) })
withExtendedLifetime(signals) { dispatchMain() }
