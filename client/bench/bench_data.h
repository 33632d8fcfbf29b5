// Benchmark data: atoms cut from real text that Debian ships, and the plan
// that says which atom each client sends in which batch.
//
// Every distinct atom is a window of real text (by default the license texts
// under /usr/share/common-licenses) behind a short unique prefix, so atoms are
// distinct only by that synthetic prefix. With a duplicate fraction d, exactly
// round(N * d) of the N atoms sent repeat content that an earlier slot (in the
// round-robin order of the clients) already carries, so duplicates occur within
// one batch, across batches of one client and across clients.
//
// Thread-safety: an AtomPlan is immutable after MakeAtomPlan(); it may be read
// from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hartonomous::bench {

struct DataOptions {
  // Atoms sent in total, over all clients. Default: 200000.
  size_t atoms = 200000;
  // Content bytes of every atom. Default: 1024.
  size_t atom_bytes = 1024;
  // Concurrent clients the atoms are split over. Default: 1.
  int clients = 1;
  // Atoms per IngestAtoms stream (one transaction). Default: 1000.
  size_t batch = 1000;
  // Fraction of sent atoms that repeat earlier content, in [0, 1). Default: 0.
  double dup_fraction = 0.0;
  // Mixed into every atom's prefix so repeated runs against one database can
  // still send distinct atoms. Default: empty.
  std::string tag;
  // Files or directories (every regular file directly inside) of real text;
  // glob(3) patterns such as /usr/share/doc/*/copyright are expanded.
  // Default: /usr/share/common-licenses.
  std::vector<std::string> corpus_paths = {"/usr/share/common-licenses"};
  // Seed of the duplicate placement. Default: 1.
  uint64_t seed = 1;
};

// Validates options; returns an error message naming the flag, or empty.
std::string CheckDataOptions(const DataOptions& options);

struct AtomPlan {
  // Distinct contents; the index is the content id.
  std::vector<std::string> contents;
  // SHA-256 of each content, 64 lowercase hex characters.
  std::vector<std::string> hashes;
  // Source file of each content (the file its text window starts in).
  std::vector<uint16_t> source_file;
  std::vector<std::string> source_files;
  // batches[c][b] = content ids client c sends in its batch b, in order.
  std::vector<std::vector<std::vector<uint32_t>>> batches;
  size_t corpus_bytes = 0;
  size_t atoms = 0;          // slots over all clients
  size_t content_bytes = 0;  // sum of content sizes over all slots
};

// Reads the corpus and builds the plan. On failure returns false and sets
// *error.
bool MakeAtomPlan(const DataOptions& options, AtomPlan* plan, std::string* error);

}  // namespace hartonomous::bench
