#include "server/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace hartonomous {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// The first certificate of a PEM file, and how many it holds.
Result<std::unique_ptr<X509, X509Free>> FirstCertificate(const std::string& flag,
                                                         const std::string& path, int* count) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) return Status::InvalidArgument(flag + " " + path + ": cannot read the file");
  std::unique_ptr<X509, X509Free> first;
  *count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (first == nullptr) {
      first.reset(cert);
    } else {
      X509_free(cert);
    }
    ++*count;
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (first == nullptr) {
    return Status::InvalidArgument(flag + " " + path + ": no PEM certificate in the file");
  }
  return first;
}

}  // namespace

Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file,
                     const std::string& client_ca_file) {
  int count = 0;
  HT_ASSIGN_OR_RETURN(auto cert, FirstCertificate("--tls-cert-file", cert_file, &count));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(key_file.c_str(), "r"));
  if (bio == nullptr) {
    return Status::InvalidArgument("--tls-key-file " + key_file + ": cannot read the file");
  }
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return Status::InvalidArgument("--tls-key-file " + key_file +
                                   ": no unencrypted PEM private key in the file");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("--tls-key-file " + key_file +
                                   ": the key does not belong to the certificate of "
                                   "--tls-cert-file " +
                                   cert_file);
  }
  if (!client_ca_file.empty()) {
    HT_RETURN_IF_ERROR(FirstCertificate("--tls-client-ca-file", client_ca_file, &count).status());
  }
  return Status::Ok();
}

}  // namespace hartonomous
