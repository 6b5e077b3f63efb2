import Dispatch
import Foundation
import Testing

@testable import HTTP

#if canImport(Glibc)
    import Glibc
#endif

/// The real server on loopback, talked to by raw sockets, curl and Python's http.client.
@Suite(.serialized)
struct LiveServerTests {
    @Test func keepAliveConnectionIsReused() throws {
        try withLiveServer { server, port, logs in
            let client = try RawClient(port: port)
            for i in 0..<3 {
                client.send("GET /hello?i=\(i) HTTP/1.1\r\nHost: x\r\nX-Request-ID: req-\(i)\r\n\r\n")
                let response = try #require(client.readResponse())
                #expect(response.status == 200)
                #expect(response.text == "hello")
                #expect(response.headers["Content-Length"] == "5")
                #expect(response.headers["Date"] != nil)
                #expect(response.headers["Connection"] == nil)
            }
            #expect(server.connectionCount == 1)
            #expect(eventually { logs.all.count == 3 })
            #expect(logs.all.map { $0.requestHeaders["X-Request-ID"] } == ["req-0", "req-1", "req-2"])
            #expect(logs.all.allSatisfy { $0.route == "/hello" && $0.status == 200 && $0.remoteAddress.hasPrefix("127.0.0.1:") })
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withLiveServer { _, port, _ in
            let client = try RawClient(port: port)
            client.send(
                "GET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcdGET /nope HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            let r1 = try #require(client.readResponse())
            let r2 = try #require(client.readResponse())
            let r3 = try #require(client.readResponse())
            let r4 = try #require(client.readResponse(headRequest: true))
            #expect(r1.text == "slow")
            #expect(r2.text == "abcd")
            #expect(r3.status == 404)
            #expect(r4.status == 200 && r4.headers["Content-Length"] == "5" && r4.body.isEmpty)
        }
    }

    /// curl waits for `100 Continue` (1 s by default, 30 s here so a busy machine cannot run it out) when a
    /// server ignores the expectation, then logs "Done waiting for 100-continue"; its verbose log shows whether
    /// that happened, without timing anything.
    @Test func curlWithExpectContinueDoesNotStall() throws {
        try withLiveServer { _, port, _ in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("http-expect-\(port).bin")
            try Data(repeating: 7, count: 200_000).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (status, out, err) = try run(
                "curl",
                [
                    "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                    "-H", "Expect: 100-continue", "--expect100-timeout", "30", "--data-binary",
                    "@\(file.path)", "http://127.0.0.1:\(port)/echo",
                ])
            #expect(status == 0, "\(err)")
            #expect(out == "200 200000")
            #expect(err.contains("< HTTP/1.1 100 Continue"), "\(err)")
            #expect(!err.contains("Done waiting for 100-continue"), "\(err)")

            let (_, out404, err404) = try run(
                "curl",
                [
                    "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}",
                    "-H", "Expect: 100-continue", "--expect100-timeout", "30", "--data-binary",
                    "@\(file.path)", "http://127.0.0.1:\(port)/missing",
                ])
            #expect(out404 == "404")
            #expect(!err404.contains("100 Continue"), "\(err404)")
            #expect(!err404.contains("Done waiting for 100-continue"), "\(err404)")
        }
    }

    @Test func chunkedUploadFromCurlAndPython() throws {
        try withLiveServer { _, port, _ in
            let (status, out, err) = try run(
                "curl",
                [
                    "-sS", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                    "http://127.0.0.1:\(port)/echo",
                ], stdin: Data("streamed body".utf8))
            #expect(status == 0, "\(err)")
            #expect(out == "streamed body")

            let script = """
                import http.client, sys
                c = http.client.HTTPConnection("127.0.0.1", \(port), timeout=5)
                c.request("POST", "/echo", body=iter([b"abc", b"defg", b"h" * 5000]), encode_chunked=True)
                r = c.getresponse()
                data = r.read()
                c.request("GET", "/query?a=1&b=x%20y&a=2")
                r2 = c.getresponse()
                print(r.status, len(data), data[:7].decode(), r2.status, r2.read().decode())
                """
            let (pyStatus, pyOut, pyErr) = try run("python3", ["-c", script])
            #expect(pyStatus == 0, "\(pyErr)")
            #expect(pyOut.trimmingCharacters(in: .whitespacesAndNewlines) == "200 5007 abcdefg 200 a=1;b=x y;a=2")
        }
    }

    @Test func slowClientGets408() throws {
        try withLiveServer({ $0.headerReadTimeout = .milliseconds(400) }) { server, port, logs in
            let client = try RawClient(port: port)
            // Slowloris: a byte every 100 ms never finishes the head within the header timeout.
            for byte in "GET /hello HTTP/1.1\r\n".utf8.prefix(8) {
                client.send([byte])
                usleep(100_000)
            }
            // Without the header timeout this read would wait for the client's 5 s receive timeout and fail.
            let response = try #require(client.readResponse())
            #expect(response.status == 408)
            #expect(response.headers["Connection"] == "close")
            #expect(client.waitForClose())
            #expect(eventually { server.connectionCount == 0 })
            #expect(logs.all.contains { $0.status == 408 && $0.errorCode == "request_timeout" })
        }
    }

    @Test func disconnectMidBodyLeavesTheServerHealthy() throws {
        try withLiveServer { server, port, _ in
            for _ in 0..<20 {
                let client = try RawClient(port: port)
                client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial body")
            }
            #expect(
                eventually { server.acceptedConnectionCount == 20 && server.connectionCount == 0 },
                "accepted \(server.acceptedConnectionCount), open \(server.connectionCount)")
            let client = try RawClient(port: port)
            client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
        }
    }

    @Test func oversizedBodyIs413() throws {
        try withLiveServer({ $0.maxBodyBytes = 1024 }) { server, port, logs in
            let client = try RawClient(port: port)
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 5000))
            let response = try #require(client.readResponse())
            #expect(response.status == 413)
            #expect(response.text.contains("\"code\":\"payload_too_large\""))
            #expect(response.headers["Connection"] == "close")
            #expect(client.waitForClose())

            let chunked = try RawClient(port: port)
            chunked.send(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + String(repeating: "y", count: 1024)
                    + "\r\n1\r\nz\r\n")
            #expect(chunked.readResponse()?.status == 413)

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("http-413-\(port).bin")
            try Data(repeating: 1, count: 3_000_000).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (_, out, _) = try run(
                "curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@\(file.path)", "http://127.0.0.1:\(port)/echo"])
            #expect(out == "413")
            #expect(eventually { server.connectionCount == 0 })
            #expect(logs.all.filter { $0.status == 413 }.count == 3)
        }
    }

    @Test func manyConcurrentConnectionsAreServed() throws {
        try withLiveServer { server, port, _ in
            let clients = try (0..<300).map { _ in try RawClient(port: port) }
            #expect(eventually { server.connectionCount == 300 })
            for (i, client) in clients.enumerated() { client.send("GET /query?i=\(i) HTTP/1.1\r\nHost: x\r\n\r\n") }
            for (i, client) in clients.enumerated() {
                #expect(client.readResponse()?.text == "i=\(i)")
            }
        }
    }

    @Test func idleConnectionsExpireOnTheirOwnDeadlines() throws {
        // A thousand connections, half of them after one request (keep-alive timeout), half before any (header
        // timeout): each closes at its own deadline, filed in the loop's deadline heap, while new requests are served.
        // 1,000 connections hold 2,000 descriptors in this process (both ends): fit the limit first, whatever ran before.
        #expect(!DescriptorLimit.raise(toServe: 2_200).capped)
        try withLiveServer({
            $0.keepAliveIdleTimeout = .milliseconds(500)
            $0.headerReadTimeout = .seconds(4)
        }) { server, port, _ in
            let clients = try (0..<1000).map { _ in try RawClient(port: port) }
            for client in clients.prefix(500) { client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") }
            for client in clients.prefix(500) { #expect(client.readResponse()?.status == 200) }
            #expect(server.connectionCount >= 500)
            // The keep-alive half goes first: the never-used half is still open then.
            #expect(eventually { server.connectionCount <= 500 })
            #expect(clients.prefix(500).allSatisfy { $0.waitForClose() })
            let fresh = try RawClient(port: port)
            fresh.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(fresh.readResponse()?.status == 200)
            #expect(eventually(within: 15) { server.connectionCount == 0 })
            #expect(clients.suffix(500).allSatisfy { $0.waitForClose() })
        }
    }

    @Test func uploadsBeyondTheBodyBudgetAreRefusedUntilOneFinishes() throws {
        try withLiveServer({
            $0.maxBodyBytes = 600
            $0.maxBufferedBodyBytes = 1000
        }) { _, port, _ in
            let body = String(repeating: "a", count: 600)
            let first = try RawClient(port: port)
            first.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n" + body.prefix(500))
            // Barrier: the loop serves every ready connection each turn, so once a later connection is answered the
            // first one's head (sent before it connected) has been read.
            let barrier = try RawClient(port: port)
            barrier.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(barrier.readResponse()?.status == 200)
            // The second upload's declared 600 bytes do not fit beside the first's 500 received: refused from its head.
            let second = try RawClient(port: port)
            second.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n")
            let refused = try #require(second.readResponse())
            #expect(refused.status == 503 && refused.headers["Retry-After"] == "1")
            #expect(refused.text.contains("too_many_uploads"))
            #expect(second.waitForClose())
            // Once the first is answered, the budget is back and the same upload goes through.
            first.send(String(body.dropFirst(500)))
            #expect(first.readResponse()?.body.count == 600)
            let third = try RawClient(port: port)
            third.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n" + body)
            #expect(third.readResponse()?.status == 200)
        }
    }

    @Test func connectionsBeyondTheLimitAreRefusedQuickly() throws {
        try withLiveServer({ $0.maxConnections = 4 }) { server, port, _ in
            let held = try (0..<4).map { _ in try RawClient(port: port) }
            #expect(eventually { server.connectionCount == 4 })
            let extra = try RawClient(port: port)
            let refused = try #require(extra.readResponse())
            #expect(refused.status == 503)
            #expect(refused.headers["Retry-After"] == "1")
            #expect(extra.waitForClose())
            held[0].send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(held[0].readResponse()?.status == 200)
            #expect(eventually { server.connectionCount == 3 })
            let later = try RawClient(port: port)
            later.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(later.readResponse()?.status == 200)
        }
    }

    @Test func slowHandlerDoesNotBlockOtherConnections() throws {
        let held = HeldResponse()
        try withLiveServer(router: testRouter(held: held)) { _, port, _ in
            let slow = try RawClient(port: port)
            slow.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(eventually { held.isHeld })
            let fast = try RawClient(port: port)
            for _ in 0..<20 {
                fast.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(fast.readResponse()?.status == 200)
            }
            // All fast answers arrived while the slow handler was still working.
            #expect(!slow.hasPendingData())
            held.release(.text("slow"))
            #expect(slow.readResponse()?.text == "slow")
        }
    }

    @Test func clientThatNeverReadsIsCutOffByTheWriteTimeout() throws {
        try withLiveServer({ $0.writeTimeout = .milliseconds(500) }) { server, port, _ in
            let client = try RawClient(port: port)
            var small: Int32 = 4096
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            // Taken before the request is sent, so the server's write timer cannot have started earlier.
            let start = ContinuousClock.now
            client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(eventually { server.acceptedConnectionCount == 1 })
            #expect(eventually(within: 8) { server.connectionCount == 0 })
            // The handler answers at once; only the write timeout can end this connection.
            #expect(start.duration(to: .now) >= .milliseconds(500))
        }
    }

    @Test func gracefulShutdownFinishesInFlightRequests() throws {
        var configuration = HTTPServer.Configuration()
        configuration.port = 0
        configuration.shutdownDeadline = .seconds(5)
        configuration.lingerTimeout = .milliseconds(200)
        let held = HeldResponse()
        let server = HTTPServer(configuration: configuration, router: testRouter(held: held))
        let port = try server.start()
        let idle = try RawClient(port: port)
        idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.readResponse()?.status == 200)
        let busy = try RawClient(port: port)
        busy.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { held.isHeld })
        let stopped = DispatchSemaphore(value: 0)
        server.shutdown { stopped.signal() }
        // The idle keep-alive connection is closed at once, before the in-flight request finishes; that one
        // completes with Connection: close.
        #expect(idle.waitForClose())
        #expect(!busy.hasPendingData())
        held.release(.text("slow"))
        let response = try #require(busy.readResponse())
        #expect(response.status == 200 && response.text == "slow")
        #expect(response.headers["Connection"] == "close")
        #expect(stopped.wait(timeout: .now() + 3) == .success)
        #expect(server.connectionCount == 0)
        #expect(throws: SocketError.self) { try RawClient(port: port) }
    }

    @Test func shutdownDeadlineBoundsAStuckHandler() throws {
        var configuration = HTTPServer.Configuration()
        configuration.port = 0
        configuration.shutdownDeadline = .milliseconds(300)
        let held = HeldResponse()
        let server = HTTPServer(configuration: configuration, router: testRouter(held: held))
        let port = try server.start()
        let busy = try RawClient(port: port)
        busy.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        // The handler is running (and is never released): ordered by the event, not by a sleep.
        #expect(eventually { held.isHeld })
        let stopped = DispatchSemaphore(value: 0)
        server.shutdown { stopped.signal() }
        // The handler never answers: only the deadline can end the shutdown (within 3 s, for a 300 ms deadline).
        #expect(stopped.wait(timeout: .now() + 3) == .success)
        #expect(busy.waitForClose())
        held.release(.text("too late"))
    }

    @Test func servesIPv6() throws {
        try withLiveServer(host: "::1") { _, port, _ in
            let (status, out, err) = try run("curl", ["-sS", "-g", "http://[::1]:\(port)/hello"])
            #expect(status == 0, "\(err)")
            #expect(out == "hello")
        }
    }

    @Test func anyIPv6AddressServesBothFamilies() throws {
        try withLiveServer(host: "::") { _, port, logs in
            for host in ["127.0.0.1", "::1"] {
                let client = try RawClient(port: port, host: host)
                client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(client.readResponse()?.status == 200, "\(host)")
            }
            #expect(eventually { logs.all.count == 2 })
            #expect(
                logs.all.map(\.remoteAddress).allSatisfy { $0.hasPrefix("[::ffff:127.0.0.1]:") || $0.hasPrefix("[::1]:") },
                "\(logs.all.map(\.remoteAddress))")
        }
    }

    @Test func llhttpCorpusReplayedAgainstTheServer() throws {
        // Every method and path the corpus uses gets an echo route, so bodies are read rather than refused.
        var router = Router()
        router.add(.get, "/hello") { _, respond in respond(.text("hello")) }
        for c in llhttpCases {
            for head in trace([c.lacksHost ? c.requestWithHost : c.request]).heads {
                router.add(head.method, head.path) { request, respond in respond(HTTPResponse(body: request.body)) }
            }
        }
        try withLiveServer(router: router) { server, port, _ in
            for c in llhttpCases {
                let input = c.lacksHost ? c.requestWithHost : c.request
                let expected = trace([input])
                let client = try RawClient(port: port)
                client.send(input)
                client.finishSending()
                let responses = client.readAllResponses()
                var expectedCount = expected.messages.count
                if case .failed = expected.end { expectedCount += 1 }
                #expect(responses.count == expectedCount, "\(c.name): \(responses.map(\.status)) for \(expected)")
                if case .failed(let code) = expected.end {
                    #expect(responses.last?.status == code.status.code, "\(c.name)")
                    #expect(responses.last?.headers["Connection"] == "close", "\(c.name)")
                }
                #expect(responses.allSatisfy { $0.status < 500 }, "\(c.name)")
                for (response, message) in zip(responses, expected.messages) {
                    #expect(response.status == 200 && response.body == message.body, "\(c.name)")
                }
            }
            #expect(eventually { server.connectionCount == 0 })
            let client = try RawClient(port: port)
            client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
        }
    }

    @Test func malformedTableCasesGet4xxFromTheServer() throws {
        var router = Router()
        router.add(.post, "/") { request, respond in respond(HTTPResponse(body: request.body)) }
        router.add(.get, "/") { request, respond in respond(HTTPResponse(body: request.body)) }
        try withLiveServer(router: router) { _, port, _ in
            for c in malformedCases where c.limits == RequestParser.Limits() {
                guard case .failed(let code) = c.end else { continue }
                let client = try RawClient(port: port)
                client.send(c.input)
                client.finishSending()
                let responses = client.readAllResponses()
                #expect(responses.last?.status == code.status.code, "\(c.name): \(responses.map(\.status))")
                #expect(responses.last?.text.contains("\"code\":\"\(code.rawValue)\"") == true, "\(c.name)")
            }
        }
    }
}

/// Signal handling in-process, with SIGUSR1 standing in for SIGTERM so the test runner is not disturbed.
@Test func signalRunsTheHookFirstThenShutsDownGracefully() throws {
    var configuration = HTTPServer.Configuration()
    configuration.port = 0
    let server = HTTPServer(configuration: configuration, router: testRouter())
    let port = try server.start()
    let hookRan = DispatchSemaphore(value: 0)
    let stopped = DispatchSemaphore(value: 0)
    let acceptedDuringHook = LogCollector()
    let handlers = installSignalHandlers(
        for: server, signals: [SIGUSR1],
        beforeShutdown: {
            // The hook runs while the server still serves (e.g. readiness flips to 503 here).
            if let client = try? RawClient(port: port) {
                client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                if let response = client.readResponse() {
                    acceptedDuringHook.append(
                        ResponseLog(
                            method: nil, path: nil, route: nil, status: response.status, errorCode: nil,
                            bytesIn: 0, bytesOut: 0, duration: .zero, remoteAddress: "", requestHeaders: HTTPHeaders()))
                }
            }
            hookRan.signal()
        }, onStopped: { stopped.signal() })
    defer { withExtendedLifetime(handlers) {} }
    kill(getpid(), SIGUSR1)
    #expect(hookRan.wait(timeout: .now() + 3) == .success)
    #expect(stopped.wait(timeout: .now() + 5) == .success)
    #expect(acceptedDuringHook.all.map(\.status) == [200])
    #expect(throws: SocketError.self) { try RawClient(port: port) }
}
