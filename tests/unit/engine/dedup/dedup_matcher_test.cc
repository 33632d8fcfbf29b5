// Ingest with a deduplication policy: AtomEngine + DedupMatcher over
// EmbeddingEngine and PolicyEngine on a temporary LMDB.
#include "server/engine/dedup/dedup_matcher.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "server/engine/atoms/atom_engine.h"
#include "server/engine/dedup/policy_engine.h"
#include "server/engine/vectors/embedding_engine.h"
#include "tests/threshold_boundaries.h"
#include "tests/unit/storage/temp_env.h"

namespace hartonomous::engine {
namespace {

struct Fixture {
  explicit Fixture(index::Metric metric = index::Metric::kCosine) {
    EmbeddingEngineOptions options;
    options.background = false;
    options.snapshot_on_stop = false;
    auto e = EmbeddingEngine::Open(t.env(), t.tables(), writer, options);
    REQUIRE(e.ok());
    embeddings = std::move(e).value();
    atoms.AddDependentRemover([this](storage::WriteTxn& txn, uint64_t atom_id) {
      return embeddings->RemoveAtomEmbeddings(txn, atom_id);
    });
    matcher = std::make_unique<DedupMatcher>(t.env(), t.tables(), policies, *embeddings);
    atoms.SetDedupMatcher(matcher.get());
    CollectionSpec spec;
    spec.embedding_type = "text";
    spec.dimension = 3;
    spec.metric = metric;
    spec.index_kind = "flat";
    REQUIRE(embeddings->CreateCollection("c", spec).ok());
  }

  void Policy(const std::string& name, std::optional<double> semantic, bool active = true,
              std::optional<double> spatial = std::nullopt) {
    storage::PolicyRecord p = NewPolicyRecord(name, semantic, spatial);
    p.set_is_active(active);
    REQUIRE(policies.Create(p).ok());
  }

  static AtomInput Input(const std::string& content, std::vector<float> v,
                         const std::string& policy = "", const std::string& collection = "c") {
    AtomInput in;
    in.content = content;
    in.modality = "text";
    in.metadata = R"({"k":"v"})";
    in.embedding = EmbeddingAttachment{collection, std::move(v), ""};
    in.policy = policy;
    return in;
  }

  Result<IngestedAtom> Ingest(AtomInput in) {
    std::vector<AtomInput> inputs;
    inputs.push_back(std::move(in));
    HT_ASSIGN_OR_RETURN(auto summary, atoms.Ingest(std::move(inputs)));
    return summary.atoms.front();
  }

  // Ingest that must succeed.
  Result<IngestedAtom> MustIngest(AtomInput in) {
    auto ingested = Ingest(std::move(in));
    REQUIRE(ingested.ok());
    return ingested;
  }

  storage::AtomRecord Get(uint64_t atom_id) {
    auto view = atoms.Get(atom_id, false);
    REQUIRE(view.ok());
    return view->record;
  }

  testing::TempEnv t{size_t{64} << 20};
  storage::WriteBatcher writer{t.env()};
  AtomEngine atoms{t.env(), t.tables(), writer, std::string(32, 'k')};
  PolicyEngine policies{t.env(), t.tables(), writer, std::string(32, 'k')};
  std::unique_ptr<EmbeddingEngine> embeddings;
  std::unique_ptr<DedupMatcher> matcher;
};

nlohmann::json Json(const std::string& text) { return nlohmann::json::parse(text); }

}  // namespace

TEST_CASE("cosine similarity is computed in double", "[dedup]") {
  CHECK(DedupMatcher::Cosine({1, 0, 0}, {3, 4, 0}) == 0.6);
  CHECK(DedupMatcher::Cosine({1, 0, 0}, {-2, 0, 0}) == -1.0);
  CHECK_FALSE(DedupMatcher::Cosine({0, 0, 0}, {1, 0, 0}));
}

TEST_CASE("semantic threshold exactly at, just above and just below the similarity", "[dedup]") {
  Fixture f;
  // The stored atom: (1, 0, 0). The new content: (3, 4, 0), cosine 3/5 = 0.6.
  auto base = f.MustIngest(Fixture::Input("base", {1, 0, 0}));
  REQUIRE(base->created);
  CHECK(base->dedup.rule == DedupRule::kNone);
  CHECK(f.Get(base->atom_id).metadata() == R"({"k":"v"})");  // no policy: no audit

  const testing::Boundary b = GENERATE(from_range(testing::ThresholdBoundaries(0.6, 0.0)));
  INFO(b.name);
  f.Policy("p", b.threshold);

  auto r = f.MustIngest(Fixture::Input("near", {3, 4, 0}, "p"));
  CHECK(r->dedup.policy == "p");
  REQUIRE(r->dedup.semantic_nearest);
  CHECK(r->dedup.semantic_nearest->atom_id == base->atom_id);
  CHECK(r->dedup.semantic_nearest->value == 0.6);
  if (b.match) {
    CHECK_FALSE(r->created);
    CHECK(r->dedup.rule == DedupRule::kSemantic);
    CHECK(r->dedup.matched_atom_id == base->atom_id);
    CHECK(r->atom_id == base->atom_id);
    CHECK(r->content_hash == base->content_hash);
    CHECK(r->reference_count == 2);
    auto stored = f.Get(base->atom_id);
    CHECK(stored.reference_count() == 2);
    auto audit = Json(stored.metadata());
    CHECK(audit["k"] == "v");
    CHECK(audit["dedup"]["matches"] == 1);
    CHECK(audit["dedup"]["last"]["policy"] == "p");
    CHECK(audit["dedup"]["last"]["rule"] == "semantic");
    CHECK(audit["dedup"]["last"]["similarity"].get<double>() == 0.6);
    CHECK(audit["dedup"]["last"]["content_hash"] == ToHex(Sha256("near")));
    // The content was not stored.
    CHECK(f.atoms.GetByHash(Sha256("near"), false).status().code() == Status::Code::kNotFound);

    // A second match counts up; the audit stays one object.
    auto again = f.MustIngest(Fixture::Input("near too", {6, 8, 0}, "p"));
    CHECK(again->atom_id == base->atom_id);
    CHECK(again->reference_count == 3);
    audit = Json(f.Get(base->atom_id).metadata());
    CHECK(audit["dedup"]["matches"] == 2);
    CHECK(audit["dedup"]["last"]["content_hash"] == ToHex(Sha256("near too")));
  } else {
    CHECK(r->created);
    CHECK(r->dedup.rule == DedupRule::kNone);
    CHECK(r->dedup.matched_atom_id == 0);
    CHECK(r->atom_id != base->atom_id);
    CHECK(f.Get(base->atom_id).reference_count() == 1);
    auto audit = Json(f.Get(r->atom_id).metadata());
    CHECK(audit["k"] == "v");
    CHECK(audit["dedup"]["policy"] == "p");
    CHECK(audit["dedup"]["rule"] == "none");
    CHECK(audit["dedup"]["semantic_nearest"]["atom_id"] == base->atom_id);
    CHECK(audit["dedup"]["semantic_nearest"]["similarity"].get<double>() == 0.6);
    // Stored with its embedding, in the same write.
    auto rows = f.embeddings->GetEmbeddings(r->atom_id, "c");
    REQUIRE(rows.ok());
    CHECK(rows->size() == 1);
  }
}

TEST_CASE("spatial threshold exactly at, just below and just above the distance", "[dedup]") {
  // Dimension 3 projects onto its own axes: (0, 0, 0) and (3, 4, 0) are 5 apart.
  Fixture f(index::Metric::kL2);
  auto base = f.MustIngest(Fixture::Input("base", {0, 0, 0}));
  const testing::Boundary b = GENERATE(from_range(testing::ThresholdBoundaries(5.0, 6.0)));
  INFO(b.name);
  f.Policy("s", std::nullopt, true, b.threshold);

  auto r = f.MustIngest(Fixture::Input("far", {3, 4, 0}, "s"));
  CHECK_FALSE(r->dedup.semantic_nearest);
  REQUIRE(r->dedup.spatial_nearest);
  CHECK(r->dedup.spatial_nearest->atom_id == base->atom_id);
  CHECK(r->dedup.spatial_nearest->value == 5.0);
  if (b.match) {
    CHECK(r->dedup.rule == DedupRule::kSpatial);
    CHECK(r->atom_id == base->atom_id);
    CHECK(r->reference_count == 2);
    auto audit = Json(f.Get(base->atom_id).metadata());
    CHECK(audit["dedup"]["matches"] == 1);
    CHECK(audit["dedup"]["last"]["rule"] == "spatial");
    CHECK(audit["dedup"]["last"]["distance"].get<double>() == 5.0);
  } else {
    CHECK(r->dedup.rule == DedupRule::kNone);
    CHECK(r->created);
    CHECK(f.Get(base->atom_id).reference_count() == 1);
    CHECK(
        Json(f.Get(r->atom_id).metadata())["dedup"]["spatial_nearest"]["distance"].get<double>() ==
        5.0);
  }
}

TEST_CASE("spatial matching skips inactive atoms", "[dedup]") {
  Fixture f(index::Metric::kL2);
  auto near = f.MustIngest(Fixture::Input("near", {1, 0, 0}));
  auto far = f.MustIngest(Fixture::Input("far", {0, 0, 2}));
  REQUIRE(f.atoms.Release(near->atom_id).ok());
  f.Policy("s", std::nullopt, true, 3.0);
  auto r = f.MustIngest(Fixture::Input("probe", {0, 0, 0}, "s"));
  REQUIRE(r->dedup.spatial_nearest);
  CHECK(r->dedup.spatial_nearest->atom_id == far->atom_id);
  CHECK(r->dedup.spatial_nearest->value == 2.0);
  CHECK(r->dedup.matched_atom_id == far->atom_id);
}

TEST_CASE("identical content is matched by hash before any threshold", "[dedup]") {
  Fixture f;
  f.Policy("p", 0.5);
  auto a = f.MustIngest(Fixture::Input("same", {1, 0, 0}, "p"));
  auto b = f.MustIngest(Fixture::Input("same", {0, 1, 0}, "p"));
  CHECK(b->dedup.rule == DedupRule::kHash);
  CHECK(b->dedup.matched_atom_id == a->atom_id);
  CHECK(b->reference_count == 2);
  // The atom keeps its first embedding.
  auto rows = f.embeddings->GetEmbeddings(a->atom_id, "c");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
}

TEST_CASE("inactive atoms are never matched", "[dedup]") {
  Fixture f;
  f.Policy("p", 0.5);
  auto a = f.MustIngest(Fixture::Input("a", {1, 0, 0}));
  REQUIRE(f.atoms.Release(a->atom_id).ok());
  auto b = f.MustIngest(Fixture::Input("b", {1, 0, 0}, "p"));
  CHECK(b->created);
  CHECK(b->dedup.rule == DedupRule::kNone);
  CHECK_FALSE(b->dedup.semantic_nearest);  // no active candidate at all

  // A candidate that turns inactive between the search and the write is not
  // matched either: Decide re-checks inside the transaction.
  f.Policy("q", 0.9);
  const EmbeddingAttachment probe{"c", {1, 0, 0}, ""};
  auto plan = f.matcher->Plan("", "q", &probe);
  REQUIRE(plan.ok());
  REQUIRE(plan->semantic_nearest);
  CHECK(plan->semantic_nearest->atom_id == b->atom_id);
  REQUIRE(f.atoms.Delete(b->atom_id).ok());
  storage::ReadTxn txn(f.t.env());
  REQUIRE(txn.status().ok());
  auto decision = f.matcher->Decide(txn, *plan);
  REQUIRE(decision.ok());
  CHECK(decision->rule == DedupRule::kNone);
  CHECK(decision->matched_atom_id == 0);
}

TEST_CASE("candidates are re-ranked by cosine similarity in an l2 collection", "[dedup]") {
  Fixture f(index::Metric::kL2);
  // Nearest by l2 to (1, 0, 0): (0.9, 0.5, 0); most similar by cosine: (10, 0.5, 0).
  auto l2_near = f.MustIngest(Fixture::Input("l2 near", {0.9f, 0.5f, 0}));
  auto cos_near = f.MustIngest(Fixture::Input("cosine near", {10, 0.5f, 0}));
  f.Policy("p", 0.99);
  auto r = f.MustIngest(Fixture::Input("probe", {1, 0, 0}, "p"));
  CHECK(r->dedup.rule == DedupRule::kSemantic);
  CHECK(r->dedup.matched_atom_id == cos_near->atom_id);
}

TEST_CASE("policy and embedding errors name the field, nothing is stored", "[dedup][errors]") {
  Fixture f;
  f.Policy("off", 0.5, /*active=*/false);
  f.Policy("p", 0.5);
  struct Case {
    const char* name;
    AtomInput input;
    Status::Code code;
    const char* message;
  };
  std::vector<Case> cases = {
      {"unknown policy", Fixture::Input("x", {1, 0, 0}, "nope"), Status::Code::kNotFound,
       "policy: no policy is named 'nope'"},
      {"inactive policy", Fixture::Input("x", {1, 0, 0}, "off"), Status::Code::kFailedPrecondition,
       "policy: policy 'off' is inactive"},
      {"unknown collection", Fixture::Input("x", {1, 0, 0}, "p", "nope"), Status::Code::kNotFound,
       "embedding.collection: no collection named 'nope'"},
      {"wrong dimension", Fixture::Input("x", {1, 0}, "p"), Status::Code::kInvalidArgument,
       "embedding.vector: 2 components but collection 'c' has dimension 3"},
      {"wrong dimension, no policy", Fixture::Input("x", {1, 0}), Status::Code::kInvalidArgument,
       "embedding.vector: 2 components"},
      {"zero vector", Fixture::Input("x", {0, 0, 0}, "p"), Status::Code::kInvalidArgument,
       "embedding.vector: all components are zero"},
  };
  for (auto& c : cases) {
    INFO(c.name);
    auto r = f.Ingest(c.input);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
    CHECK_THAT(r.status().message(), Catch::StartsWith(c.message));
  }

  // In a batch the atom is named, and a bad atom fails the whole batch.
  std::vector<AtomInput> batch;
  batch.push_back(Fixture::Input("good", {1, 0, 0}, "p"));
  batch.push_back(Fixture::Input("bad", {1, 0}, "p"));
  batch[0].field = "atoms[0]";
  batch[1].field = "atoms[1]";
  auto r = f.atoms.Ingest(std::move(batch));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::StartsWith("atoms[1].embedding.vector: "));
  auto report = f.atoms.DedupStats(10);
  REQUIRE(report.ok());
  CHECK(report->total.unique_atoms() == 0);
  CHECK(f.embeddings->GetCollection("c")->vector_count == 0);
}

TEST_CASE("a batch stores atoms with their embeddings, matching sees committed rows only",
          "[dedup]") {
  Fixture f;
  f.Policy("p", 0.9);
  std::vector<AtomInput> batch;
  batch.push_back(Fixture::Input("one", {1, 0, 0}, "p"));
  batch.push_back(Fixture::Input("two", {1, 0, 0}, "p"));  // a duplicate of one, same batch
  auto r = f.atoms.Ingest(std::move(batch));
  REQUIRE(r.ok());
  CHECK(r->atoms_created == 2);
  CHECK(f.embeddings->GetCollection("c")->vector_count == 2);
  // Committed now: a third one matches (the lower atom id on a tie).
  auto three = f.MustIngest(Fixture::Input("three", {2, 0, 0}, "p"));
  CHECK(three->dedup.rule == DedupRule::kSemantic);
  CHECK(three->dedup.matched_atom_id == r->atoms[0].atom_id);
}

}  // namespace hartonomous::engine
