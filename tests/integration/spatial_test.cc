// Spatial projections, SpatialQuery and HybridSearch through the real daemon:
// Fashion-MNIST images loaded by the real CLI, refits, atoms' spatial keys,
// bad input, and projections across kill -9.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <set>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"

namespace hartonomous::testing {
namespace {

using nlohmann::json;

v1::Point3 P(double x, double y, double z) {
  v1::Point3 p;
  p.set_x(x);
  p.set_y(y);
  p.set_z(z);
  return p;
}

double Dist(const v1::Point3& a, const v1::Point3& b) {
  return std::sqrt((a.x() - b.x()) * (a.x() - b.x()) + (a.y() - b.y()) * (a.y() - b.y()) +
                   (a.z() - b.z()) * (a.z() - b.z()));
}

std::string Code(const grpc::Status& s) { return CodeName(s.error_code()); }

// Every row's (atom id -> embedding with its projected points).
std::map<uint64_t, v1::Embedding> Embeddings(Client& client, const std::string& collection,
                                             uint64_t first, int n) {
  std::map<uint64_t, v1::Embedding> out;
  for (uint64_t atom = first; atom < first + static_cast<uint64_t>(n); ++atom) {
    v1::GetEmbeddingsResponse got;
    REQUIRE(client.GetEmbeddings(atom, collection, &got).ok());
    REQUIRE(got.embeddings_size() == 1);
    out[atom] = got.embeddings(0);
  }
  return out;
}

v1::HybridSearchRequest Hybrid(const v1::Embedding& query, uint32_t k) {
  v1::HybridSearchRequest h;
  h.set_collection("fm");
  *h.mutable_vector() = query.vector();
  h.set_limit(k);
  return h;
}

}  // namespace

TEST_CASE("HybridSearch on Fashion-MNIST: exact when the radius covers everything, recall reported",
          "[spatial][search]") {
  Daemon daemon({.extra_args = {"--projection-fit-after", "0"}});
  Client& client = daemon.client();
  if (!LoadFashion(daemon, 1500)) return;
  v1::Collection fm;
  REQUIRE(client.GetCollection("fm", &fm).ok());
  CHECK(fm.projection().kind() == "random");
  CHECK(fm.projection().points() == 1500);

  v1::RefitProjectionRequest refit;
  refit.set_collection("fm");
  refit.set_sample_size(1000);
  v1::ProjectionInfo info;
  REQUIRE(client.RefitProjection(refit, &info).ok());
  CHECK(info.kind() == "pca");
  CHECK(info.version() == 1);
  CHECK(info.fitted_rows() == 1000);
  CHECK(info.reprojected() == 1500);
  // Pixels (as 0..1) spread by several units along the leading components,
  // in decreasing order.
  CHECK(info.scale().x() > 1);
  CHECK(info.scale().x() >= info.scale().y());
  CHECK(info.scale().y() >= info.scale().z());
  REQUIRE(client.GetCollection("fm", &fm).ok());
  CHECK(fm.projection().version() == 1);

  v1::ListAtomsRequest list;
  list.set_page_size(1);
  v1::ListAtomsResponse first_page;
  REQUIRE(client.ListAtomsPage(list, &first_page).ok());
  const uint64_t first = first_page.atoms(0).atom_id();
  auto rows = Embeddings(client, "fm", first, 1500);

  for (uint64_t q : {first, first + 700, first + 1499}) {
    v1::SearchRequest exact;
    exact.set_collection("fm");
    *exact.mutable_vector() = rows.at(q).vector();
    exact.set_limit(10);
    exact.mutable_params()->set_exact(true);
    v1::SearchResponse truth;
    REQUIRE(client.Search(exact, &truth).ok());

    auto h = Hybrid(rows.at(q), 10);
    h.set_radius(1e9);
    h.set_report_recall(true);
    v1::HybridSearchResponse all;
    REQUIRE(client.HybridSearch(h, &all).ok());
    CHECK(all.candidates() == 1500);
    CHECK(all.recall() == 1.0);
    REQUIRE(all.results_size() == 10);
    for (int i = 0; i < 10; ++i) CHECK(all.results(i).atom_id() == truth.results(i).atom_id());
    // The centre is the query's own projection, i.e. its stored point.
    CHECK(Dist(all.center(), rows.at(q).spatial_geometry()) == Approx(0).margin(1e-6));

    // A 5% prefilter: stage 1 keeps 75 rows; recall is what the exact rerank
    // of those finds, and the answer is their exact top 10.
    h.set_keep_fraction(0.05);
    v1::HybridSearchResponse five;
    REQUIRE(client.HybridSearch(h, &five).ok());
    CHECK(five.candidates() == 75);
    REQUIRE(five.has_recall());
    std::set<uint64_t> truth_ids;
    for (const auto& r : truth.results()) truth_ids.insert(r.atom_id());
    size_t overlap = 0;
    for (const auto& r : five.results()) overlap += truth_ids.count(r.atom_id());
    CHECK(five.recall() == Approx(overlap / 10.0));
    std::vector<std::pair<float, uint64_t>> within;
    for (const auto& [atom, e] : rows) {
      if (Dist(e.spatial_geometry(), five.center()) <= five.radius()) {
        float d = 0;
        for (int i = 0; i < e.vector_size(); ++i) {
          const float diff = e.vector(i) - rows.at(q).vector(i);
          d += diff * diff;
        }
        within.emplace_back(d, atom);
      }
    }
    REQUIRE(within.size() == 75);
    std::sort(within.begin(), within.end());
    for (int i = 0; i < 10; ++i) CHECK(five.results(i).atom_id() == within[i].second);

    // The same radius through the coarse grid keeps the same candidates.
    h.set_radius(five.radius());
    h.set_coarse_first(true);
    v1::HybridSearchResponse coarse;
    REQUIRE(client.HybridSearch(h, &coarse).ok());
    CHECK(coarse.candidates() == 75);
    for (int i = 0; i < 10; ++i) CHECK(coarse.results(i).atom_id() == five.results(i).atom_id());

    // Adding the ANN candidates never lowers recall.
    h.set_coarse_first(false);
    h.set_mode(v1::HYBRID_MODE_PREFILTER_AND_ANN);
    h.set_ef(64);
    v1::HybridSearchResponse with_ann;
    REQUIRE(client.HybridSearch(h, &with_ann).ok());
    CHECK(with_ann.mode() == v1::HYBRID_MODE_PREFILTER_AND_ANN);
    CHECK(with_ann.recall() >= five.recall());
    CHECK(with_ann.candidates() == 75 + with_ann.ann_candidates());
  }

  // Filters apply to stage 1: label 3 only (its metadata "label": 3).
  auto h = Hybrid(rows.at(first), 5);
  h.set_radius(1e9);
  (*h.mutable_filter()->mutable_metadata_equals())["label"] = "3";
  v1::HybridSearchResponse filtered;
  REQUIRE(client.HybridSearch(h, &filtered).ok());
  REQUIRE(filtered.results_size() == 5);
  v1::SearchRequest s;
  s.set_collection("fm");
  *s.mutable_vector() = rows.at(first).vector();
  s.set_limit(5);
  s.mutable_params()->set_exact(true);
  (*s.mutable_filter()->mutable_metadata_equals())["label"] = "3";
  v1::SearchResponse exact_filtered;
  REQUIRE(client.Search(s, &exact_filtered).ok());
  for (int i = 0; i < 5; ++i)
    CHECK(filtered.results(i).atom_id() == exact_filtered.results(i).atom_id());
}

TEST_CASE("SpatialQuery over projected points and over atoms' spatial keys", "[spatial]") {
  Daemon daemon;
  Client& client = daemon.client();
  // Atoms with spatial keys on a 5x5x5 grid, some without.
  std::vector<v1::IngestAtomRequest> atoms;
  std::map<std::string, v1::Point3> keys;
  for (int x = 0; x < 5; ++x) {
    for (int y = 0; y < 5; ++y) {
      for (int z = 0; z < 5; ++z) {
        auto a = TextAtom("cell " + std::to_string(x) + std::to_string(y) + std::to_string(z));
        *a.mutable_spatial_key() = P(x, y, z);
        atoms.push_back(a);
      }
    }
  }
  atoms.push_back(TextAtom("no key"));
  v1::IngestAtomsResponse ingested;
  REQUIRE(client.IngestAtoms(atoms, &ingested).ok());
  std::map<uint64_t, v1::Point3> by_id;
  for (size_t i = 0; i + 1 < atoms.size(); ++i)
    by_id[ingested.results(i).atom_id()] = atoms[i].spatial_key();

  v1::SpatialQueryRequest q;
  q.set_space(v1::SPATIAL_SPACE_ATOM);
  q.mutable_within_radius()->mutable_center()->CopyFrom(P(2, 2, 2));
  q.mutable_within_radius()->set_radius(
      1.0);  // the centre and its 6 face neighbours, boundary inside
  v1::SpatialQueryResponse r;
  REQUIRE(client.SpatialQuery(q, &r).ok());
  REQUIRE(r.hits_size() == 7);
  CHECK(r.hits(0).distance() == 0);
  for (const auto& h : r.hits()) CHECK(Dist(by_id.at(h.atom_id()), P(2, 2, 2)) <= 1.0);

  q.mutable_within_box()->mutable_min()->CopyFrom(P(0, 0, 0));
  q.mutable_within_box()->mutable_max()->CopyFrom(P(1, 1, 4));
  REQUIRE(client.SpatialQuery(q, &r).ok());
  CHECK(r.hits_size() == 2 * 2 * 5);

  q.mutable_nearest()->mutable_center()->CopyFrom(P(4.2, 4.2, 4.2));
  q.mutable_nearest()->set_k(1);
  REQUIRE(client.SpatialQuery(q, &r).ok());
  REQUIRE(r.hits_size() == 1);
  CHECK(by_id.at(r.hits(0).atom_id()).x() == 4);
  CHECK(by_id.at(r.hits(0).atom_id()).y() == 4);
  CHECK(by_id.at(r.hits(0).atom_id()).z() == 4);

  // A deleted and purged atom leaves the index.
  const uint64_t corner = r.hits(0).atom_id();
  v1::Atom deleted;
  REQUIRE(client.DeleteAtom(corner, &deleted).ok());
  v1::PurgeInactiveResponse purged;
  REQUIRE(client.PurgeInactive(0, &purged).ok());
  REQUIRE(client.SpatialQuery(q, &r).ok());
  CHECK(r.hits(0).atom_id() != corner);

  // A limit cuts and says so.
  q.mutable_within_radius()->mutable_center()->CopyFrom(P(2, 2, 2));
  q.mutable_within_radius()->set_radius(100);
  q.set_limit(10);
  REQUIRE(client.SpatialQuery(q, &r).ok());
  CHECK(r.hits_size() == 10);
  CHECK(r.truncated());

  // Embeddings of dimension 3 are their own points; coarse points snap to
  // the grid.
  std::vector<v1::EmbeddingInput> inputs;
  for (const auto& [id, p] : by_id) {
    if (id == corner) continue;
    v1::EmbeddingInput in;
    in.set_atom_id(id);
    in.add_vector(static_cast<float>(p.x()));
    in.add_vector(static_cast<float>(p.y()));
    in.add_vector(static_cast<float>(p.z()));
    inputs.push_back(in);
  }
  v1::CollectionSpec spec;
  spec.set_metric(v1::METRIC_L2);
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("xyz", &spec, inputs, &added).ok());
  v1::SpatialQueryRequest fine;
  fine.set_collection("xyz");
  fine.mutable_within_radius()->mutable_center()->CopyFrom(P(2, 2, 2));
  fine.mutable_within_radius()->set_radius(1.0);
  REQUIRE(client.SpatialQuery(fine, &r).ok());
  CHECK(r.hits_size() == 7);
  for (const auto& h : r.hits()) {
    CHECK(h.embedding_id() != 0);
    CHECK(Dist(h.point(), by_id.at(h.atom_id())) == 0);
  }
  v1::GetEmbeddingsResponse got;
  REQUIRE(client.GetEmbeddings(r.hits(0).atom_id(), "xyz", &got).ok());
  v1::Collection xyz;
  REQUIRE(client.GetCollection("xyz", &xyz).ok());
  const double cell = xyz.projection().coarse_cell();
  const auto& g = got.embeddings(0).spatial_geometry();
  const auto& c = got.embeddings(0).spatial_coarse();
  CHECK(g.x() == 2);
  CHECK(c.x() == (std::floor(g.x() / cell) + 0.5) * cell);
  fine.set_space(v1::SPATIAL_SPACE_COARSE);
  fine.mutable_within_radius()->mutable_center()->CopyFrom(c);
  fine.mutable_within_radius()->set_radius(0);
  REQUIRE(client.SpatialQuery(fine, &r).ok());
  REQUIRE(r.hits_size() >= 1);
  CHECK(r.hits(0).point().x() == c.x());
}

TEST_CASE("bad spatial and hybrid input is INVALID_ARGUMENT naming the field", "[spatial]") {
  Daemon daemon;
  Client& client = daemon.client();
  auto atom = TextAtom("a");
  v1::IngestAtomResponse ingested;
  REQUIRE(client.IngestAtom(atom, &ingested).ok());
  v1::EmbeddingInput in;
  in.set_atom_id(ingested.atom_id());
  for (float x : {1.0f, 2.0f, 3.0f, 4.0f}) in.add_vector(x);
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("c", nullptr, {in}, &added).ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();

  auto spatial = [&](const std::function<void(v1::SpatialQueryRequest&)>& edit) {
    v1::SpatialQueryRequest q;
    q.set_collection("c");
    q.mutable_within_radius()->set_radius(1);
    edit(q);
    v1::SpatialQueryResponse r;
    return client.SpatialQuery(q, &r);
  };
  auto s = spatial([&](auto& q) { q.mutable_within_radius()->set_radius(-1); });
  CHECK(Code(s) == "INVALID_ARGUMENT");
  CHECK(s.error_message().rfind("within_radius.radius:", 0) == 0);
  s = spatial([&](auto& q) { q.mutable_within_radius()->set_radius(nan); });
  CHECK(Code(s) == "INVALID_ARGUMENT");
  CHECK(s.error_message().find("NaN") != std::string::npos);
  s = spatial([&](auto& q) { q.mutable_within_radius()->mutable_center()->set_y(nan); });
  CHECK(s.error_message().rfind("within_radius.center:", 0) == 0);
  s = spatial([&](auto& q) {
    q.mutable_within_box()->mutable_min()->CopyFrom(P(1, 0, 0));
    q.mutable_within_box()->mutable_max()->CopyFrom(P(0, 1, 1));
  });
  CHECK(s.error_message().rfind("within_box:", 0) == 0);
  s = spatial([&](auto& q) { q.clear_shape(); });
  CHECK(s.error_message().rfind("shape:", 0) == 0);
  s = spatial([&](auto& q) { q.mutable_nearest()->set_k(0); });
  CHECK(s.error_message().rfind("nearest.k:", 0) == 0);
  s = spatial([&](auto& q) { q.set_limit(1000000); });
  CHECK(s.error_message().rfind("limit:", 0) == 0);
  s = spatial([&](auto& q) { q.set_collection(""); });
  CHECK(s.error_message().rfind("collection:", 0) == 0);
  s = spatial([&](auto& q) { q.set_collection("missing"); });
  CHECK(Code(s) == "NOT_FOUND");

  auto hybrid = [&](const std::function<void(v1::HybridSearchRequest&)>& edit) {
    v1::HybridSearchRequest h;
    h.set_collection("c");
    for (float x : {1.0f, 2.0f, 3.0f, 4.0f}) h.add_vector(x);
    h.set_limit(1);
    h.set_radius(1);
    edit(h);
    v1::HybridSearchResponse r;
    return client.HybridSearch(h, &r);
  };
  CHECK(hybrid([](auto&) {}).ok());
  s = hybrid([&](auto& h) { h.set_radius(-0.5); });
  CHECK(Code(s) == "INVALID_ARGUMENT");
  CHECK(s.error_message().rfind("radius:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_radius(nan); });
  CHECK(s.error_message().rfind("radius:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_radius(std::numeric_limits<double>::infinity()); });
  CHECK(s.error_message().rfind("radius:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_keep_fraction(0); });
  CHECK(s.error_message().rfind("keep_fraction:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_keep_fraction(1.5); });
  CHECK(s.error_message().rfind("keep_fraction:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_keep_fraction(nan); });
  CHECK(s.error_message().rfind("keep_fraction:", 0) == 0);
  s = hybrid([&](auto& h) { h.clear_stage1(); });
  CHECK(s.error_message().rfind("radius/keep_fraction:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_atom_id(ingested.atom_id()); });
  CHECK(s.error_message().rfind("vector/atom_id:", 0) == 0);
  s = hybrid([&](auto& h) { h.set_limit(0); });
  CHECK(s.error_message().rfind("limit:", 0) == 0);
  s = hybrid([&](auto& h) { h.mutable_center()->set_x(nan); });
  CHECK(s.error_message().rfind("center:", 0) == 0);
  s = hybrid([&](auto& h) { h.add_vector(5); });
  CHECK(s.error_message().rfind("vector:", 0) == 0);
  s = hybrid([&](auto& h) {
    h.set_keep_fraction(0.5);
    h.set_coarse_first(true);
  });
  CHECK(s.error_message().rfind("coarse_first:", 0) == 0);

  v1::RefitProjectionRequest refit;
  refit.set_collection("c");
  v1::ProjectionInfo info;
  s = client.RefitProjection(refit, &info);
  CHECK(Code(s) == "FAILED_PRECONDITION");  // one vector; pca needs 16
  refit.set_kind("tsne");
  CHECK(client.RefitProjection(refit, &info).error_message().rfind("kind:", 0) == 0);
  refit.set_kind("random");
  refit.set_coarse_cell(-1);
  CHECK(client.RefitProjection(refit, &info).error_message().rfind("coarse_cell:", 0) == 0);
  refit.set_coarse_cell(0);
  refit.set_sample_size(5);
  CHECK(client.RefitProjection(refit, &info).error_message().rfind("sample_size:", 0) == 0);
  v1::Collection c;
  REQUIRE(client.GetCollection("c", &c).ok());
  CHECK(c.projection().version() == 0);
}

TEST_CASE("a fitted projection and its points survive kill -9", "[spatial][durability]") {
  TempDir dir;
  std::map<uint64_t, v1::Embedding> before;
  uint64_t first = 0;
  {
    Daemon daemon({.data_dir = dir.path(), .extra_args = {"--projection-fit-after", "0"}});
    if (!LoadFashion(daemon, 300)) return;
    v1::RefitProjectionRequest refit;
    refit.set_collection("fm");
    v1::ProjectionInfo info;
    REQUIRE(daemon.client().RefitProjection(refit, &info).ok());
    v1::ListAtomsRequest list;
    list.set_page_size(1);
    v1::ListAtomsResponse page;
    REQUIRE(daemon.client().ListAtomsPage(list, &page).ok());
    first = page.atoms(0).atom_id();
    before = Embeddings(daemon.client(), "fm", first, 300);
    daemon.Kill9();
  }
  Daemon daemon({.data_dir = dir.path(), .extra_args = {"--projection-fit-after", "0"}});
  v1::Collection fm;
  REQUIRE(daemon.client().GetCollection("fm", &fm).ok());
  CHECK(fm.projection().kind() == "pca");
  CHECK(fm.projection().version() == 1);
  CHECK(fm.projection().points() == 300);
  auto after = Embeddings(daemon.client(), "fm", first, 300);
  for (const auto& [atom, e] : before) {
    CHECK(after.at(atom).spatial_geometry().x() == e.spatial_geometry().x());
    CHECK(after.at(atom).spatial_geometry().y() == e.spatial_geometry().y());
    CHECK(after.at(atom).spatial_geometry().z() == e.spatial_geometry().z());
    v1::SpatialQueryRequest q;
    q.set_collection("fm");
    q.mutable_within_radius()->mutable_center()->CopyFrom(e.spatial_geometry());
    q.mutable_within_radius()->set_radius(0);
    v1::SpatialQueryResponse r;
    REQUIRE(daemon.client().SpatialQuery(q, &r).ok());
    bool found = false;
    for (const auto& h : r.hits()) found |= h.atom_id() == atom;
    CHECK(found);
  }
}

TEST_CASE("CLI refit, spatial and hybrid", "[spatial][cli]") {
  Daemon daemon({.extra_args = {"--projection-fit-after", "0"}});
  if (!LoadFashion(daemon, 400)) return;
  json refit = JsonOf(Cli(daemon, {"--json", "refit", "fm", "--sample", "200"}));
  CHECK(refit["kind"] == "pca");
  CHECK(refit["reprojected"] == 400);
  json hybrid = JsonOf(Cli(daemon, {"--json", "hybrid", "fm", "--file", kFashionImages, "--row",
                                    "0", "--fraction", "0.1", "--recall", "-k", "5"}));
  CHECK(hybrid["candidates"] == 40);
  CHECK(hybrid["results"].size() == 5);
  CHECK(hybrid["recall"].get<double>() >= 0.0);
  // Row 0 is itself in the collection: its own nearest, at distance 0.
  CHECK(hybrid["results"][0]["distance"].get<double>() == 0);
  const auto c = hybrid["center"];
  const std::string at = std::to_string(c[0].get<double>()) + "," +
                         std::to_string(c[1].get<double>()) + "," +
                         std::to_string(c[2].get<double>());
  json near = JsonOf(Cli(daemon, {"--json", "spatial", "fm", "--at", at, "--nearest", "3"}));
  CHECK(near["hits"].size() == 3);
  json list = JsonOf(Cli(daemon, {"--json", "collections"}));
  CHECK(list[0]["projection"]["kind"] == "pca");
  ProcessResult text = Cli(daemon, {"hybrid", "fm", "--file", kFashionImages, "--radius", "500"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("stage 1 kept") != std::string::npos);
  ProcessResult bad = Cli(daemon, {"hybrid", "fm", "--file", kFashionImages, "--radius", "-1"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("radius:") != std::string::npos);
  ProcessResult usage = Cli(daemon, {"spatial", "fm", "--at", "1,2", "--radius", "1"});
  CHECK(usage.exit_code == 2);
}

}  // namespace hartonomous::testing

namespace hartonomous::testing {

TEST_CASE("atoms' spatial keys are snapshotted at a clean stop and found after restart",
          "[spatial][durability]") {
  TempDir dir;
  std::set<uint64_t> before;
  v1::SpatialQueryRequest q;
  q.set_space(v1::SPATIAL_SPACE_ATOM);
  q.mutable_within_radius()->mutable_center()->set_x(0);
  q.mutable_within_radius()->set_radius(10);
  {
    Daemon daemon({.data_dir = dir.path()});
    std::vector<v1::IngestAtomRequest> atoms;
    for (int i = 0; i < 20; ++i) {
      auto a = TextAtom("keyed " + std::to_string(i));
      a.mutable_spatial_key()->set_x(i * 0.5);
      atoms.push_back(a);
    }
    v1::IngestAtomsResponse ingested;
    REQUIRE(daemon.client().IngestAtoms(atoms, &ingested).ok());
    v1::SpatialQueryResponse r;
    REQUIRE(daemon.client().SpatialQuery(q, &r).ok());
    REQUIRE(r.hits_size() == 20);
    for (const auto& h : r.hits()) before.insert(h.atom_id());
    REQUIRE(daemon.Stop() == 0);
  }
  CHECK(std::filesystem::exists(dir.path() + "/atom_points.snap"));
  Daemon daemon({.data_dir = dir.path()});
  v1::SpatialQueryResponse r;
  REQUIRE(daemon.client().SpatialQuery(q, &r).ok());
  std::set<uint64_t> after;
  for (const auto& h : r.hits()) after.insert(h.atom_id());
  CHECK(after == before);
}

}  // namespace hartonomous::testing
