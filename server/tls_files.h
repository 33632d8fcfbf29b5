// TLS files of the daemon, checked before it listens: gRPC reads them
// itself (and again whenever they change), but only when a client connects;
// a wrong path, a file that is not PEM or a key that does not belong to the
// certificate must stop the start instead, naming the setting.
//
// Thread-safety: stateless.
#pragma once

#include <string>

#include "base/status.h"

namespace hartonomous {

// cert_file: a PEM certificate chain (the server's first); key_file: its
// PEM private key; client_ca_file: PEM CA certificates that client
// certificates must chain to, or "" for none. InvalidArgument naming
// --tls-cert-file, --tls-key-file or --tls-client-ca-file and what is wrong.
Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file,
                     const std::string& client_ca_file);

}  // namespace hartonomous
