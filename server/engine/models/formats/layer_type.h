// A guess of a tensor's role from its name, for the ModelLayer row:
// embedding, attention, feedforward, norm or other. Matches the naming of
// Hugging Face transformers, llama.cpp's GGUF tensor names and ONNX
// exporters (case-insensitive substrings of the dotted/underscored name).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace hartonomous::engine::models {

enum class LayerType { kEmbedding, kAttention, kFeedforward, kNorm, kOther };

// "embedding", "attention", "feedforward", "norm", "other".
const char* LayerTypeName(LayerType type);

// The role guessed from a tensor name; kOther when nothing matches.
LayerType GuessLayerType(std::string_view tensor_name);

}  // namespace hartonomous::engine::models
