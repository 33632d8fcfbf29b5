#include "server/engine/models/formats/layer_type.h"

#include <array>
#include <cctype>
#include <string>

namespace hartonomous::engine::models {

const char* LayerTypeName(LayerType type) {
  switch (type) {
    case LayerType::kEmbedding:
      return "embedding";
    case LayerType::kAttention:
      return "attention";
    case LayerType::kFeedforward:
      return "feedforward";
    case LayerType::kNorm:
      return "norm";
    case LayerType::kOther:
      return "other";
  }
  return "other";
}

namespace {

struct Rule {
  const char* needle;
  LayerType type;
};

// First match wins: norms before attention ("attn_norm" is a norm),
// attention before feedforward.
constexpr std::array<Rule, 26> kRules = {{
    {"layernorm", LayerType::kNorm},
    {"layer_norm", LayerType::kNorm},
    {"rmsnorm", LayerType::kNorm},
    {"_norm", LayerType::kNorm},
    {".norm", LayerType::kNorm},
    {"norm.", LayerType::kNorm},
    {"ln_", LayerType::kNorm},
    {"batchnorm", LayerType::kNorm},
    {"embed", LayerType::kEmbedding},
    {"wte", LayerType::kEmbedding},
    {"wpe", LayerType::kEmbedding},
    {"token_embd", LayerType::kEmbedding},
    {"attn", LayerType::kAttention},
    {"attention", LayerType::kAttention},
    {"q_proj", LayerType::kAttention},
    {"k_proj", LayerType::kAttention},
    {"v_proj", LayerType::kAttention},
    {"o_proj", LayerType::kAttention},
    {"qkv", LayerType::kAttention},
    {"mlp", LayerType::kFeedforward},
    {"ffn", LayerType::kFeedforward},
    {"feed_forward", LayerType::kFeedforward},
    {"gate_proj", LayerType::kFeedforward},
    {"up_proj", LayerType::kFeedforward},
    {"down_proj", LayerType::kFeedforward},
    {"fc", LayerType::kFeedforward},
}};

}  // namespace

LayerType GuessLayerType(std::string_view tensor_name) {
  std::string lower(tensor_name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "norm" || lower.ends_with("norm.weight") || lower.ends_with("norm.bias")) {
    return LayerType::kNorm;
  }
  for (const Rule& rule : kRules) {
    if (lower.find(rule.needle) != std::string::npos) return rule.type;
  }
  return LayerType::kOther;
}

}  // namespace hartonomous::engine::models
