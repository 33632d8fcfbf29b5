// The storage schema: every LMDB named database ("table") of the data model
// and its secondary indexes, declared in one place, with key and value
// layouts. docs/storage_format.md explains each one.
//
// Tables filled by later features exist from the first open so that a data
// dir never needs a layout change to gain them.
//
// Thread-safety: Tables is immutable after OpenTables().
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"

namespace hartonomous::storage {

// Bumped when a stored layout changes; Open refuses a newer data dir and
// migrates an older one.
//   1: the first layout.
//   2: atom payloads may be zstd frames (AtomRecord.payload_codec) and a
//      canonical_text equal to the content is stored once. Version 1 rows
//      read unchanged (absent codec = raw), so opening a version 1 data dir
//      only records version 2; a hartonomousd that knows only version 1
//      then refuses the dir instead of misreading compressed content.
inline constexpr uint32_t kSchemaVersion = 2;

struct Tables {
  // "meta": string key -> bytes. schema_version (be32), page_token_key
  // (32 random bytes), created_at_us (be64), writer_epoch (be64; rewritten
  // by the WriteBatcher after a full disk).
  MDB_dbi meta;
  // "sequences": sequence name -> be64 last id issued.
  MDB_dbi sequences;

  // --- atoms ---
  // "atoms": be64(atom_id) -> AtomRecord.
  MDB_dbi atoms;
  // "atom_hash": sha256(32) -> be64(atom_id). Unique.
  MDB_dbi atom_hash;
  // "atom_payload": be64(atom_id) be32(chunk) -> content bytes (<= kChunkBytes).
  MDB_dbi atom_payload;
  // "atoms_by_refcount": be64(reference_count) be64(atom_id) -> "" (active atoms).
  MDB_dbi atoms_by_refcount;
  // "atoms_inactive": be64(atom_id) -> "" (atoms with is_active = false).
  MDB_dbi atoms_inactive;
  // "dedup_counters": modality -> DedupCounter.
  MDB_dbi dedup_counters;

  // --- rows owned by an atom: key prefix be64(atom_id), purged with it ---
  // "atom_embeddings": be64(atom_id) embedding_type 0x00 be64(model_id) -> EmbeddingRecord.
  // At most one embedding per (atom, embedding type, model); a collection
  // owns one (embedding type, model id) pair.
  MDB_dbi atom_embeddings;
  // "atom_embedding_components": be64(atom_id) be64(embedding_id) be32(i) -> component.
  // Not written: the vector lives in EmbeddingRecord.vector.
  MDB_dbi atom_embedding_components;
  // "atom_relations": be64(source_atom_id) relation_type 0x00 be64(ordinal)
  // be64(target_atom_id) -> RelationRecord (forward edges; storage/tables/relation_table.h).
  MDB_dbi atom_relations;
  // "atom_relations_reverse": be64(target_atom_id) relation_type 0x00
  // be64(source_atom_id) be64(ordinal) -> "" (the same edges, by target).
  MDB_dbi atom_relations_reverse;
  // "tensor_atoms_by_atom": be64(atom_id) be64(tensor_atom_id) -> "".
  MDB_dbi tensor_atoms_by_atom;

  // --- vector collections ---
  // "collections": be64(collection_id) -> CollectionRecord.
  MDB_dbi collections;
  // "collection_names": name -> be64(collection_id). Unique.
  MDB_dbi collection_names;
  // "embeddings_by_seq": be64(collection_id) be64(embedding_id) -> the row's
  // "atom_embeddings" key. Embedding ids come from the "embedding_id"
  // sequence, so this is each collection's rows in write order: an index
  // snapshot at watermark W is caught up from (collection_id, W + 1).
  MDB_dbi embeddings_by_seq;
  // "projections": be64(collection_id) -> ProjectionRecord. A collection's
  // fitted 3D projection (absent = the seeded random projection, version 0).
  // Embeddings' spatial points are derived from it: never stored per row.
  MDB_dbi projections;

  // --- models ---
  MDB_dbi models;                    // be64(model_id) -> Model
  MDB_dbi model_names;               // name -> be64(model_id). Unique.
  MDB_dbi model_layers;              // be64(model_id) be32(layer_idx) -> ModelLayer
  MDB_dbi model_metadata;            // be64(model_id) -> ModelMetadata
  MDB_dbi tensor_atoms;              // be64(tensor_atom_id) -> TensorAtom
  MDB_dbi tensor_atom_coefficients;  // be64(tensor_atom_id) be32(i) -> coefficient

  // --- inference ---
  MDB_dbi inference_requests;  // be64(inference_id) -> InferenceRequest
  MDB_dbi inference_by_time;   // be64(~start_us) be64(inference_id) -> ""
  MDB_dbi inference_steps;     // be64(inference_id) be32(step) -> InferenceStep
  MDB_dbi cached_activations;  // be64(layer_id) ... -> CachedActivation

  // --- deduplication policies ---
  MDB_dbi dedup_policies;  // be64(policy_id) -> DeduplicationPolicy
  MDB_dbi policy_names;    // policy name -> be64(policy_id). Unique.

  // Tables whose keys start with be64(atom_id) of the atom that owns them:
  // PurgeInactive deletes those prefixes with the atom. (Relations are first
  // removed edge by edge, both directions, so that no counterpart dangles.)
  std::vector<MDB_dbi> atom_owned() const {
    return {atom_embeddings, atom_embedding_components, atom_relations, atom_relations_reverse,
            tensor_atoms_by_atom};
  }
};

// Content is split into rows of at most this size in "atom_payload".
inline constexpr size_t kChunkBytes = size_t{1} << 20;

struct TableInfo {
  const char* name;
  MDB_dbi Tables::*member;
};
// Every table, in declaration order.
const std::vector<TableInfo>& AllTables();

// Opens every table, creating what is missing, checks the schema version and
// creates the meta records of a new data dir.
Result<Tables> OpenTables(Env& env);

// Reads a meta value written by OpenTables.
Result<std::string> ReadMeta(Env& env, const Tables& tables, const std::string& key);

}  // namespace hartonomous::storage
