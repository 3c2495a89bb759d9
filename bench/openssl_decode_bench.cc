// certfleet-bench-openssl-decode: what one key or certificate decode costs
// with this machine's OpenSSL, beside generating a key. The issuance profile
// (docs/benchmarks.md) puts a quarter of the coordinator's CPU inside
// OpenSSL 3's decoder set-up (OSSL_DECODER_CTX_new_for_pkey); this shows the
// price per call of each way to turn bytes back into a key, single-threaded.
//
//   certfleet-bench-openssl-decode [--iterations 2000]
//
// Prints one line per operation: microseconds of CPU per call.

// d2i_ECPrivateKey is deprecated in OpenSSL 3 but is the decoder-free path
// this program measures for comparison.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

namespace {

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void Measure(const char* what, int iterations,
             const std::function<void()>& op) {
  op();  // warm caches and OpenSSL's provider tables
  const double start = CpuSeconds();
  for (int i = 0; i < iterations; ++i) op();
  printf("%8.1f us  %s\n", (CpuSeconds() - start) / iterations * 1e6, what);
}

// A self-signed P-256 certificate, DER, for the certificate decode.
std::string SelfSignedDer(EVP_PKEY* key) {
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bench"),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  unsigned char* der = nullptr;
  const int len = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 2000;
  if (argc == 3 && std::strcmp(argv[1], "--iterations") == 0) {
    iterations = std::atoi(argv[2]);
  } else if (argc != 1) {
    fprintf(stderr, "usage: certfleet-bench-openssl-decode [--iterations N]\n");
    return 2;
  }
  if (iterations < 1) iterations = 1;
  printf("%s, %d iterations, CPU per call:\n", OpenSSL_version(OPENSSL_VERSION),
         iterations);

  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* pem_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(pem_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* pem_data = nullptr;
  const long pem_len = BIO_get_mem_data(pem_bio, &pem_data);
  const std::string pem(pem_data, static_cast<size_t>(pem_len));
  BIO_free(pem_bio);
  unsigned char* der_data = nullptr;
  const int der_len = i2d_PrivateKey(key, &der_data);
  const std::string der(reinterpret_cast<char*>(der_data),
                        static_cast<size_t>(der_len));
  OPENSSL_free(der_data);
  const std::string cert = SelfSignedDer(key);

  Measure("EVP_EC_gen(\"P-256\"): generate a key", iterations,
          [] { EVP_PKEY_free(EVP_EC_gen("P-256")); });
  Measure(
      "PEM_read_bio_PrivateKey: PEM key, type unknown (decoder)", iterations,
      [&] {
        BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        EVP_PKEY_free(PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr));
        BIO_free(b);
      });
  Measure("d2i_PrivateKey(EVP_PKEY_EC): DER key, type known (decoder)",
          iterations, [&] {
            const unsigned char* p =
                reinterpret_cast<const unsigned char*>(der.data());
            EVP_PKEY_free(d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p,
                                         static_cast<long>(der.size())));
          });
  Measure("d2i_ECPrivateKey + EVP_PKEY_assign_EC_KEY (no decoder)", iterations,
          [&] {
            const unsigned char* p =
                reinterpret_cast<const unsigned char*>(der.data());
            EC_KEY* ec =
                d2i_ECPrivateKey(nullptr, &p, static_cast<long>(der.size()));
            EVP_PKEY* k = EVP_PKEY_new();
            EVP_PKEY_assign_EC_KEY(k, ec);
            EVP_PKEY_free(k);
          });
  Measure("d2i_X509: P-256 certificate (decodes its public key)", iterations,
          [&] {
            const unsigned char* p =
                reinterpret_cast<const unsigned char*>(cert.data());
            X509_free(d2i_X509(nullptr, &p, static_cast<long>(cert.size())));
          });
  EVP_PKEY_free(key);
  return 0;
}
