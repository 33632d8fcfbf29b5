// The external data files an ONNX model names (TensorProto.external_data
// "location" of its initializers, sparse initializers, node attribute
// tensors and subgraphs), found by a bounded protobuf wire walk of the
// model file, so that `model import` streams them after the model
// (ImportExternalFile) and `model export` writes them beside its output;
// and where such a file is, beside the model file, refusing a location
// that would leave the model file's directory.
//
// Errors: OnnxExternalLocations returns what it found up to a malformed
// byte (the server parses the file and names what is wrong);
// ResolveExternalLocation throws Failure naming the location and the rule.
//
// Thread-safety: pure functions.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hartonomous::cli {

// Distinct locations, in the order the model first names them.
std::vector<std::string> OnnxExternalLocations(std::string_view model_file);

// The path of `location` in `directory`: Failure when it is empty,
// absolute, has a ".." component, a NUL byte or over 255 bytes, or
// resolves (through symbolic links) outside the directory.
std::filesystem::path ResolveExternalLocation(const std::filesystem::path& directory,
                                              const std::string& location);

}  // namespace hartonomous::cli
