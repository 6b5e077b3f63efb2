import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A certificate, key or CA file that cannot be used: the message names the file and what is wrong with it.
public struct TLSConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The server's TLS settings and its current OpenSSL context. New connections take the current context; a reload
/// (SIGHUP, or the files' modification times changing) builds a new one from the same paths and swaps it in only if
/// it loads completely, so a half-written Secret or a key that does not match keeps the old pair serving. Existing
/// connections keep the context they started with (OpenSSL counts its references).
public final class TLSContextStore: @unchecked Sendable {
    public enum ClientAuthentication: String, Sendable, CaseIterable {
        /// Clients may present a certificate; one that does not verify against the CA is refused.
        case optional
        /// Clients must present a certificate that verifies against the CA.
        case require
    }

    public struct Files: Sendable, Equatable {
        public var certificateChain: String
        public var privateKey: String
        /// PEM CA bundle that client certificates must chain to (mutual TLS); nil: no client certificates.
        public var clientCA: String?
        public var clientAuthentication: ClientAuthentication

        public init(
            certificateChain: String, privateKey: String, clientCA: String? = nil, clientAuthentication: ClientAuthentication = .require
        ) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.clientCA = clientCA
            self.clientAuthentication = clientAuthentication
        }

        var paths: [String] { [certificateChain, privateKey] + (clientCA.map { [$0] } ?? []) }
    }

    public let files: Files
    private let lock = NSLock()
    private var context: OpaquePointer
    private var loadedExpiry: Date
    private var stamps: [String: FileStamp]

    /// Loads the pair (and CA); throws at start-up with a message naming the bad file.
    public init(files: Files) throws {
        self.files = files
        let stamps = Self.stamps(of: files.paths)
        let (context, expiry) = try Self.load(files)
        self.context = context
        self.loadedExpiry = expiry
        self.stamps = stamps
    }

    deinit { SSL_CTX_free(context) }

    /// When the certificate being served expires.
    public var expiry: Date { lock.withLock { loadedExpiry } }

    /// A TLS session for a newly accepted socket, on the current context.
    func session(fd: Int32) -> OpaquePointer? {
        lock.withLock { cos_accept(context, fd) }
    }

    /// Loads the files again and, if that succeeds, serves the new pair to new connections. On failure the old pair
    /// stays and the error says why.
    public func reload() -> Result<Date, TLSConfigurationError> {
        let stamps = Self.stamps(of: files.paths)
        do {
            let (fresh, expiry) = try Self.load(files)
            let old: OpaquePointer = lock.withLock {
                let old = context
                context = fresh
                loadedExpiry = expiry
                self.stamps = stamps
                return old
            }
            SSL_CTX_free(old)
            return .success(expiry)
        } catch let error as TLSConfigurationError {
            // Not retried until the files change again.
            lock.withLock { self.stamps = stamps }
            return .failure(error)
        } catch {
            return .failure(TLSConfigurationError(description: "\(error)"))
        }
    }

    /// `reload()` if any file's modification time, size or inode changed since the last load (a Kubernetes Secret
    /// update swaps a symlink); nil when nothing changed.
    public func reloadIfChanged() -> Result<Date, TLSConfigurationError>? {
        let current = Self.stamps(of: files.paths)
        guard lock.withLock({ current != stamps }) else { return nil }
        return reload()
    }

    private static func stamps(of paths: [String]) -> [String: FileStamp] {
        var result: [String: FileStamp] = [:]
        for path in paths { result[path] = FileStamp(path) }
        return result
    }

    private static func load(_ files: Files) throws -> (OpaquePointer, Date) {
        var error = [CChar](repeating: 0, count: 1024)
        var notAfter: Int64 = 0
        let context = cos_server_context(
            files.certificateChain, files.privateKey, files.clientCA, files.clientAuthentication == .require ? 1 : 0, &error, error.count,
            &notAfter)
        guard let context else {
            throw TLSConfigurationError(
                description: String(cString: error))
        }
        return (context, Date(timeIntervalSince1970: TimeInterval(notAfter)))
    }
}
