#include "spatial.h"

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_errors.h"
#include "commands.h"
#include "json_output.h"
#include "vectors.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

v1::Point3 ParsePoint(std::string_view flag, const std::string& text) {
  std::vector<double> xyz = ParseNumbers(flag, text);
  if (xyz.size() != 3) throw UsageError(std::string(flag) + ": expected X,Y,Z");
  v1::Point3 p;
  p.set_x(xyz[0]);
  p.set_y(xyz[1]);
  p.set_z(xyz[2]);
  return p;
}

nlohmann::ordered_json PointJson(const v1::Point3& p) { return {p.x(), p.y(), p.z()}; }

std::string PointText(const v1::Point3& p) {
  std::ostringstream out;
  out << std::setprecision(6) << "(" << p.x() << ", " << p.y() << ", " << p.z() << ")";
  return out.str();
}

double ParseDouble(const Invocation& invocation, const std::string& flag) {
  const std::string text = invocation.Get(flag);
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument("");
    return v;
  } catch (const std::exception&) {
    throw UsageError("--" + flag + ": '" + text + "' is not a number");
  }
}

}  // namespace

std::vector<OptionSpec> RefitOptions() {
  return {{"kind", 0, "pca|random", "projection kind (default pca)"},
          {"sample", 0, "N", "rows to fit on (default 10000; every row when fewer)"},
          {"cell", 0, "X", "coarse grid cell edge (default a quarter of the mean scale)"},
          {"seed", 0, "N", "sample seed (default the collection id)"}};
}

void RunRefit(const Invocation& invocation) {
  v1::RefitProjectionRequest request;
  request.set_collection(invocation.args[0]);
  request.set_kind(invocation.Get("kind"));
  request.set_sample_size(static_cast<uint32_t>(invocation.GetUint("sample", 0)));
  if (invocation.Has("cell")) request.set_coarse_cell(ParseDouble(invocation, "cell"));
  request.set_seed(invocation.GetUint("seed", 0));
  const v1::ProjectionInfo info = Call(invocation, &Client::RefitProjection, request);
  if (invocation.global.json) {
    nlohmann::ordered_json j;
    j["kind"] = info.kind();
    j["version"] = info.version();
    j["scale"] = PointJson(info.scale());
    j["coarse_cell"] = info.coarse_cell();
    j["fitted_rows"] = info.fitted_rows();
    j["points"] = info.points();
    j["reprojected"] = info.reprojected();
    PrintJson(std::cout, j);
    return;
  }
  std::cout << "collection '" << request.collection() << "': projection " << info.kind() << " v"
            << info.version() << " fitted on " << info.fitted_rows() << " rows\n"
            << "scale " << PointText(info.scale()) << "  coarse cell " << info.coarse_cell() << "\n"
            << info.reprojected() << " of " << info.points() << " points reprojected\n";
}

std::vector<OptionSpec> SpatialOptions() {
  return {
      {"at", 0, "X,Y,Z", "the centre of --radius or --nearest"},
      {"radius", 0, "R", "points within R of --at"},
      {"box", 0, "X,Y,Z,X,Y,Z", "points within the box (min corner, max corner)"},
      {"nearest", 0, "K", "the K points nearest to --at"},
      {"space", 0, "fine|coarse|atom", "which points (default fine; atom = atoms' spatial keys)"},
      {"limit", 0, "N", "at most N hits of --radius/--box (default 1000)"}};
}

void RunSpatial(const Invocation& invocation) {
  v1::SpatialQueryRequest request;
  request.set_collection(invocation.args.empty() ? "" : invocation.args[0]);
  const std::string space = invocation.Has("space") ? invocation.Get("space") : "fine";
  if (space == "fine") {
    request.set_space(v1::SPATIAL_SPACE_FINE);
  } else if (space == "coarse") {
    request.set_space(v1::SPATIAL_SPACE_COARSE);
  } else if (space == "atom") {
    request.set_space(v1::SPATIAL_SPACE_ATOM);
  } else {
    throw UsageError("--space: one of fine, coarse, atom; got '" + space + "'");
  }
  if (space != "atom" && invocation.args.empty())
    throw UsageError("COLLECTION is required unless --space atom");
  const int shapes = invocation.Has("radius") + invocation.Has("box") + invocation.Has("nearest");
  if (shapes != 1) throw UsageError("give exactly one of --radius, --box or --nearest");
  if (invocation.Has("box")) {
    std::vector<double> c = ParseNumbers("--box", invocation.Get("box"));
    if (c.size() != 6) throw UsageError("--box: expected X,Y,Z,X,Y,Z");
    auto* box = request.mutable_within_box();
    box->mutable_min()->set_x(c[0]);
    box->mutable_min()->set_y(c[1]);
    box->mutable_min()->set_z(c[2]);
    box->mutable_max()->set_x(c[3]);
    box->mutable_max()->set_y(c[4]);
    box->mutable_max()->set_z(c[5]);
  } else {
    if (!invocation.Has("at"))
      throw UsageError("--at X,Y,Z is required with --radius and --nearest");
    const v1::Point3 at = ParsePoint("--at", invocation.Get("at"));
    if (invocation.Has("radius")) {
      *request.mutable_within_radius()->mutable_center() = at;
      request.mutable_within_radius()->set_radius(ParseDouble(invocation, "radius"));
    } else {
      *request.mutable_nearest()->mutable_center() = at;
      request.mutable_nearest()->set_k(static_cast<uint32_t>(invocation.GetUint("nearest", 10)));
    }
  }
  request.set_limit(static_cast<uint32_t>(invocation.GetUint("limit", 0)));
  const v1::SpatialQueryResponse response = Call(invocation, &Client::SpatialQuery, request);
  if (invocation.global.json) {
    nlohmann::ordered_json j;
    j["hits"] = nlohmann::ordered_json::array();
    for (const auto& h : response.hits()) {
      j["hits"].push_back({{"atom_id", h.atom_id()},
                           {"embedding_id", h.embedding_id()},
                           {"point", PointJson(h.point())},
                           {"distance", h.distance()}});
    }
    j["truncated"] = response.truncated();
    PrintJson(std::cout, j);
    return;
  }
  for (const auto& h : response.hits()) {
    std::cout << std::setw(10) << h.atom_id() << "  " << PointText(h.point()) << "  "
              << std::setprecision(6) << h.distance() << "\n";
  }
  std::cout << response.hits_size() << " points"
            << (response.truncated() ? " (more matched; raise --limit)" : "") << "\n";
}

std::vector<OptionSpec> HybridOptions() {
  std::vector<OptionSpec> options = QuerySourceOptions();
  options.insert(options.end(),
                 {{"k", 'k', "N", "how many results (default 10)"},
                  {"radius", 0, "R", "stage 1 keeps points within R of the centre"},
                  {"fraction", 0, "F", "stage 1 keeps the nearest fraction F of the collection"},
                  {"at", 0, "X,Y,Z", "stage 1's centre (default the query's own projection)"},
                  {"coarse-first", 0, "", "select by coarse grid cell, then by fine point"},
                  {"ann", 0, "", "add the ANN index's nearest to the candidates"},
                  {"ef", 0, "N", "with --ann: how many ANN candidates"},
                  {"recall", 0, "", "also measure recall@k against exact search"}});
  for (const auto& o : FilterOptions()) options.push_back(o);
  options.push_back({"text", 0, "", "show each atom's canonical text"});
  return options;
}

void RunHybrid(const Invocation& invocation) {
  v1::HybridSearchRequest request;
  request.set_collection(invocation.args[0]);
  QuerySource source = ReadQuerySource(invocation);
  request.mutable_vector()->Add(source.vector.begin(), source.vector.end());
  request.set_atom_id(source.atom_id);
  request.set_limit(static_cast<uint32_t>(invocation.GetUint("k", 10)));
  if (invocation.Has("radius") == invocation.Has("fraction")) {
    throw UsageError("give exactly one of --radius or --fraction");
  }
  if (invocation.Has("radius")) request.set_radius(ParseDouble(invocation, "radius"));
  if (invocation.Has("fraction")) request.set_keep_fraction(ParseDouble(invocation, "fraction"));
  if (invocation.Has("at")) *request.mutable_center() = ParsePoint("--at", invocation.Get("at"));
  request.set_coarse_first(invocation.Has("coarse-first"));
  request.set_mode(invocation.Has("ann") ? v1::HYBRID_MODE_PREFILTER_AND_ANN
                                         : v1::HYBRID_MODE_PREFILTER);
  request.set_ef(static_cast<uint32_t>(invocation.GetUint("ef", 0)));
  request.set_report_recall(invocation.Has("recall"));
  ReadFilter(invocation, request.mutable_filter());
  request.set_with_canonical_text(invocation.Has("text"));
  request.set_with_metadata(true);

  const v1::HybridSearchResponse response = Call(invocation, &Client::HybridSearch, request);
  if (invocation.global.json) {
    nlohmann::ordered_json j;
    j["candidates"] = response.candidates();
    j["ann_candidates"] = response.ann_candidates();
    j["radius"] = response.radius();
    j["center"] = PointJson(response.center());
    if (response.has_recall()) j["recall"] = response.recall();
    j["results"] = ScoredAtomsJson(response.results(), request.with_canonical_text());
    PrintJson(std::cout, j);
    return;
  }
  PrintScoredAtoms(response.results(), request.with_canonical_text());
  std::cout << response.results_size() << " results; stage 1 kept " << response.candidates()
            << " candidates within " << response.radius() << " of " << PointText(response.center());
  if (response.ann_candidates() != 0)
    std::cout << " (+" << response.ann_candidates() << " from ANN)";
  if (response.has_recall())
    std::cout << "; recall@" << request.limit() << " " << response.recall();
  std::cout << "\n";
}

}  // namespace hartonomous::cli
