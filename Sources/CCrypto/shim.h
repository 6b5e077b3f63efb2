// OpenSSL's libcrypto (Debian: libssl-dev), used for SHA-256 of weight files.
#include <openssl/evp.h>
