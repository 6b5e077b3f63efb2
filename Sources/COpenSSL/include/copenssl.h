// The service's one way into OpenSSL (Debian: libssl-dev): SHA-256 for weight files (libcrypto's EVP, used
// directly), and TLS for the HTTP server through the small shim below. The shim exists because several OpenSSL
// entry points are macros Swift cannot import (SSL_CTX_set_min_proto_version, SSL_CTX_set_mode, …) and because
// SSL_get_error's protocol is easier to keep right in one C function than at every Swift call site.
#ifndef COPENSSL_H
#define COPENSSL_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

/// Results of the non-blocking calls below (besides a positive byte count).
enum {
    COS_EOF = 0,          ///< the peer closed (close_notify or TCP FIN)
    COS_ERROR = -1,       ///< protocol or system error: drop the connection
    COS_WANT_READ = -2,   ///< try again when the socket is readable
    COS_WANT_WRITE = -3,  ///< try again when the socket is writable
};

/// A server context: TLS 1.2 and 1.3 only, Mozilla "intermediate" AEAD suites for 1.2, no renegotiation, no
/// compression, ALPN http/1.1, server-side session cache and tickets; the certificate chain and key from PEM
/// files (the key must match, the certificate must not have expired). With `client_ca`, clients are asked for a
/// certificate verified against it (`require_client_cert`: refused without one). On failure: NULL and a message
/// naming the file in `error`. `not_after` receives the leaf certificate's expiry (Unix time).
SSL_CTX *cos_server_context(const char *certificate_file, const char *key_file, const char *client_ca_file,
                            int require_client_cert, char *error, size_t error_length, long long *not_after);

/// A server-side connection on the non-blocking socket `fd` (the caller still owns and closes `fd`).
SSL *cos_accept(SSL_CTX *context, int fd);
/// Advances the handshake: 1 when done, else a COS_ code.
int cos_handshake(SSL *ssl);
/// Reads application data: a byte count > 0, or a COS_ code.
long cos_read(SSL *ssl, void *buffer, size_t length);
/// Writes application data (partial writes allowed): a byte count > 0, or a COS_ code.
long cos_write(SSL *ssl, const void *buffer, size_t length);
/// Decrypted bytes OpenSSL holds that poll(2) cannot see.
int cos_pending(SSL *ssl);
/// Sends close_notify (best effort, once).
void cos_shutdown(SSL *ssl);
void cos_free(SSL *ssl);
/// "TLSv1.3", "TLSv1.2"…
const char *cos_version(const SSL *ssl);
/// The verified client certificate's subject (one line, RFC 2253), or 0 when there is none.
int cos_peer_subject(SSL *ssl, char *buffer, size_t length);
/// The negotiated ALPN protocol (empty when none), into `buffer`.
void cos_alpn(const SSL *ssl, char *buffer, size_t length);

/// A client connection on the connected, blocking socket `fd` (for `seresnet healthcheck --tls`): TLS 1.2+, the
/// server's certificate verified against `ca_file` (or the system's CAs when NULL) and `server_name`, unless
/// `insecure`. NULL and a message in `error` when the handshake or verification fails.
SSL *cos_connect(int fd, const char *server_name, const char *ca_file, int insecure, char *error, size_t error_length);

#endif
