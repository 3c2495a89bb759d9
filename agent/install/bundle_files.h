// From a delivered bundle to the bytes of a target's files: the checks that
// refuse a bad bundle before anything touches the disk, and the rendering
// of each configured file format.
//
//   ASSIGN_OR_RETURN(VerifiedBundle v, VerifyBundle(bundle, spec,
//   clock.Now())); ASSIGN_OR_RETURN(std::vector<RenderedFile> files,
//                    RenderFiles(spec, v, fs));
#ifndef CERTFLEET_AGENT_INSTALL_BUNDLE_FILES_H_
#define CERTFLEET_AGENT_INSTALL_BUNDLE_FILES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/config/agent_config.h"
#include "agent/install/bundle.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/filesystem.h"

namespace certfleet::agent {

// A bundle whose key, chain, names and validity were checked.
struct VerifiedBundle {
  crypto::PrivateKey key;
  crypto::Certificate leaf;
  std::vector<crypto::Certificate> intermediates;
};

// Parses the bundle and checks, in order: the key matches the leaf, the
// leaf is valid at `now`, it chains to the last intermediate (VerifyChain at
// `now`), and it covers every name in spec.require_names.
// kInvalidArgument when a part does not parse; kFailedPrecondition when a
// check fails; each message starts with what was checked ("key: ...",
// "chain: ...", "names: ...", "validity: ...").
absl::StatusOr<VerifiedBundle> VerifyBundle(const Bundle& bundle,
                                            const TargetSpec& spec,
                                            absl::Time now);

// One file of a version, relative to the version directory.
struct RenderedFile {
  std::string path;
  std::string content;
  mode_t mode = 0644;
};

// The configured files of `spec`, in order, with their modes: key = PKCS#8
// PEM; cert = leaf PEM; chain = intermediates; fullchain = leaf +
// intermediates; combined = leaf + intermediates + key (the order haproxy
// 2.6 documents: "cat cert.pem key.pem > combined.pem"); pkcs12 = key, leaf
// and intermediates encrypted with AES-256-CBC (PBKDF2) and a SHA-256 MAC,
// the password being the first line of password_file (read through `fs`).
absl::StatusOr<std::vector<RenderedFile>> RenderFiles(
    const TargetSpec& spec, const VerifiedBundle& bundle, Filesystem& fs);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_BUNDLE_FILES_H_
