// What OpenSSL found while verifying an ACME server's certificate, so that a
// failed handshake says why ("certificate has expired", "unable to get local
// issuer certificate") and whose certificate it was, not only curl's generic
// "SSL peer certificate or SSH remote key was not OK".
//
// The notes are gathered by a verify callback that watches, and never
// changes, OpenSSL's decision: curl keeps verifying exactly as it does.
//
//   TlsVerifyNotes notes;
//   WatchTlsVerification(curl, &notes);
//   curl_easy_perform(curl);
//   StopWatchingTlsVerification(curl);
//   ... notes.Describe() ...
#ifndef CERTFLEET_COORDINATOR_ACME_TLS_VERIFY_NOTES_H_
#define CERTFLEET_COORDINATOR_ACME_TLS_VERIFY_NOTES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace certfleet::acme {

struct TlsVerifyNotes {
  // The server's own certificate (depth 0), RFC 2253 ("CN=localhost").
  std::string server_subject;
  // The first verification failure, from X509_verify_cert_error_string, and
  // the certificate it concerns (depth 0: the server's; 1: its issuer; ...).
  std::string failure;
  std::string failed_subject;
  int failed_depth = -1;

  // "unable to get local issuer certificate: certificate "CN=Lab
  // Intermediate" at depth 1, presented by "CN=acme.example"" — without the
  // reason when `already_said` (curl's message) holds it; the server's
  // subject alone when no failure was seen (curl's own host-name check
  // failed); "" when the handshake never reached a certificate.
  std::string Describe(absl::string_view already_said = "") const;
};

// Installs the verify callback on the TLS connections `curl` (a CURL*)
// opens from now on. No-op, with a false return, when libcurl does not use
// OpenSSL. `notes` must outlive the transfer.
bool WatchTlsVerification(void* curl, TlsVerifyNotes* notes);
// Detaches `notes` from the connection the last transfer used, which curl
// keeps for the next request.
void StopWatchingTlsVerification(void* curl);

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_TLS_VERIFY_NOTES_H_
