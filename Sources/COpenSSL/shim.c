#include "copenssl.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

// Mozilla's "intermediate" configuration (v5.7) for TLS 1.2: forward-secret AEAD suites only. TLS 1.3's suites
// are all AEAD and forward secret; OpenSSL's default list is kept.
static const char *const tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static void describe_error(char *error, size_t length, const char *what, const char *path) {
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "no detail from OpenSSL";
    if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
    snprintf(error, length, "%s %s: %s", what, path, reason);
    ERR_clear_error();
}

static int select_http11(SSL *ssl, const unsigned char **out, unsigned char *out_length, const unsigned char *in,
                         unsigned int in_length, void *argument) {
    (void)ssl;
    (void)argument;
    static const unsigned char http11[] = "\x08http/1.1";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, out_length, http11, sizeof http11 - 1, in, in_length) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    // The client offered ALPN without http/1.1 (h2 only): RFC 7301 says refuse.
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

SSL_CTX *cos_server_context(const char *certificate_file, const char *key_file, const char *client_ca_file,
                            int require_client_cert, char *error, size_t error_length, long long *not_after) {
    ERR_clear_error();
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (context == NULL) {
        describe_error(error, error_length, "cannot create a TLS context", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    // A peer closing TCP without close_notify reads as EOF (HTTP/1.1's own framing tells a truncated body apart).
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(context, (const unsigned char *)"seresnet", 8);
    SSL_CTX_set_alpn_select_cb(context, select_http11, NULL);
    // Key exchange groups of the same profile (no X448, secp521r1, FFDHE).
    if (SSL_CTX_set1_groups_list(context, "X25519:prime256v1:secp384r1") != 1) {
        describe_error(error, error_length, "cannot set the TLS key exchange groups", "");
        goto fail;
    }
    if (SSL_CTX_set_cipher_list(context, tls12_ciphers) != 1) {
        describe_error(error, error_length, "cannot set the TLS 1.2 cipher list", "");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(context, certificate_file) != 1) {
        describe_error(error, error_length, "cannot read the certificate chain (PEM) from", certificate_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(context, key_file, SSL_FILETYPE_PEM) != 1) {
        int reason = ERR_GET_REASON(ERR_peek_last_error());
        if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH) {
            char which[1024];
            snprintf(which, sizeof which, "%s does not match the certificate in %s", key_file, certificate_file);
            describe_error(error, error_length, "the private key", which);
        } else {
            describe_error(error, error_length, "cannot read the private key (PEM) from", key_file);
        }
        goto fail;
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        char which[1024];
        snprintf(which, sizeof which, "%s does not match the certificate in %s", key_file, certificate_file);
        describe_error(error, error_length, "the private key", which);
        goto fail;
    }
    X509 *leaf = SSL_CTX_get0_certificate(context);
    const ASN1_TIME *expiry = leaf ? X509_get0_notAfter(leaf) : NULL;
    struct tm when;
    if (expiry == NULL || ASN1_TIME_to_tm(expiry, &when) != 1) {
        describe_error(error, error_length, "cannot read the expiry date of the certificate in", certificate_file);
        goto fail;
    }
    *not_after = (long long)timegm(&when);
    if (X509_cmp_current_time(expiry) < 0) {
        char date[64];
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &when);
        snprintf(error, error_length, "the certificate in %s expired on %s", certificate_file, date);
        goto fail;
    }
    if (client_ca_file != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(context, client_ca_file, NULL) != 1) {
            if (names != NULL) sk_X509_NAME_pop_free(names, X509_NAME_free);
            describe_error(error, error_length, "cannot read the client CA certificates (PEM) from", client_ca_file);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(context, names);
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | (require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
    }
    return context;
fail:
    SSL_CTX_free(context);
    return NULL;
}

SSL *cos_accept(SSL_CTX *context, int fd) {
    SSL *ssl = SSL_new(context);
    if (ssl == NULL) return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

/// Maps a failed SSL call's result to a COS_ code; the error queue is left empty.
static int outcome(SSL *ssl, int result) {
    int code = SSL_get_error(ssl, result);
    ERR_clear_error();
    switch (code) {
    case SSL_ERROR_WANT_READ: return COS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return COS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return COS_EOF;
    default: return COS_ERROR;
    }
}

int cos_handshake(SSL *ssl) {
    ERR_clear_error();
    int result = SSL_do_handshake(ssl);
    return result == 1 ? 1 : outcome(ssl, result);
}

long cos_read(SSL *ssl, void *buffer, size_t length) {
    ERR_clear_error();
    size_t read = 0;
    int result = SSL_read_ex(ssl, buffer, length, &read);
    if (result == 1) return (long)read;
    return outcome(ssl, result);
}

long cos_write(SSL *ssl, const void *buffer, size_t length) {
    ERR_clear_error();
    size_t written = 0;
    int result = SSL_write_ex(ssl, buffer, length, &written);
    return result == 1 ? (long)written : outcome(ssl, result);
}

int cos_pending(SSL *ssl) { return SSL_pending(ssl); }

void cos_shutdown(SSL *ssl) {
    if ((SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) == 0 && SSL_is_init_finished(ssl)) {
        ERR_clear_error();
        SSL_shutdown(ssl);
        ERR_clear_error();
    }
}

void cos_free(SSL *ssl) { SSL_free(ssl); }

const char *cos_version(const SSL *ssl) { return SSL_get_version(ssl); }

int cos_peer_subject(SSL *ssl, char *buffer, size_t length) {
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer == NULL || SSL_get_verify_result(ssl) != X509_V_OK) {
        if (peer != NULL) X509_free(peer);
        return 0;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
    int n = BIO_read(bio, buffer, (int)length - 1);
    buffer[n > 0 ? n : 0] = 0;
    BIO_free(bio);
    X509_free(peer);
    return 1;
}

void cos_alpn(const SSL *ssl, char *buffer, size_t length) {
    const unsigned char *protocol = NULL;
    unsigned int protocol_length = 0;
    SSL_get0_alpn_selected(ssl, &protocol, &protocol_length);
    if (protocol_length >= length) protocol_length = (unsigned int)length - 1;
    if (protocol_length) memcpy(buffer, protocol, protocol_length);
    buffer[protocol_length] = 0;
}

SSL *cos_connect(int fd, const char *server_name, const char *ca_file, int insecure, char *error, size_t error_length) {
    ERR_clear_error();
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) {
        describe_error(error, error_length, "cannot create a TLS context", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    if (!insecure) {
        int loaded = ca_file ? SSL_CTX_load_verify_locations(context, ca_file, NULL) : SSL_CTX_set_default_verify_paths(context);
        if (loaded != 1) {
            describe_error(error, error_length, "cannot read the CA certificates (PEM) from", ca_file ? ca_file : "the system store");
            SSL_CTX_free(context);
            return NULL;
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    }
    SSL *ssl = SSL_new(context);
    SSL_CTX_free(context);  // the connection holds its own reference
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        describe_error(error, error_length, "cannot create a TLS connection", "");
        if (ssl) SSL_free(ssl);
        return NULL;
    }
    SSL_set_tlsext_host_name(ssl, server_name);
    if (!insecure) SSL_set1_host(ssl, server_name);
    if (SSL_connect(ssl) != 1) {
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            snprintf(error, error_length, "the server's certificate does not verify for %s: %s", server_name,
                     X509_verify_cert_error_string(verify));
            ERR_clear_error();
        } else {
            describe_error(error, error_length, "TLS handshake with", server_name);
        }
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}
