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

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"

namespace hartonomous::storage {

// Bumped when a stored layout changes; Open refuses a newer data dir and
// migrates or refuses an older one.
//   1: the first layout.
//   2: atom payloads may be zstd frames (AtomRecord.payload_codec) and a
//      canonical_text equal to the content is stored once. Version 1 rows
//      read unchanged (absent codec = raw).
//   3: composite atoms keep their children in "atom_children" (one row per
//      composite instead of two edge rows per child) and store only their
//      header; "atom_hash" is keyed by an 8-byte hash prefix; only atoms
//      with two or more references are in "atoms_by_refcount". Data dirs of
//      versions 1 and 2 are migrated at open (storage/tables/schema_migration.h).
//   4: small new contents of one write are packed into shared payload
//      blocks ("payload_blocks", AtomRecord.payload_block). Version 3 rows
//      read unchanged; the migration only rewrites the version, so that an
//      older binary refuses a dir whose atoms it could not read.
//   5: atom records are stored without what their key and other fields say
//      (storage/tables/atom_record_codec.h: no atom_id, no updated_at_us
//      equal to created_at_us, well-known modality and subtype names as
//      codes). Version 4 rows read unchanged; the migration only rewrites
//      the version, and rows take the new form when next written.
inline constexpr uint32_t kSchemaVersion = 5;
inline constexpr uint32_t kOldestMigratableVersion = 1;

// The inference log's rows live in segments (storage/tables/inference_table.h):
// at most kInferenceSlots at once, each in a slot of four tables that a
// prune empties whole. Slot 0 is "inference_requests", "inference_by_time",
// "inference_by_model" and "inference_by_task"; slot k > 0 the same names
// with ".k" appended (key and value layouts as in slot 0).
inline constexpr size_t kInferenceSlots = 64;
struct InferenceSlotTables {
  MDB_dbi requests;  // be64(inference_id) -> InferenceRecord (steps inline)
  MDB_dbi by_time;   // be64(~start_us) be64(inference_id) -> ""
  MDB_dbi by_model;  // be64(model_id) be64(~start_us) be64(inference_id) -> ""
  MDB_dbi by_task;   // task_type 0x00 be64(~start_us) be64(inference_id) -> ""
};

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
  // "atom_hash": the first 8 bytes of sha256 -> be64(atom_id). The atom's
  // record holds the whole hash; when a prefix is taken by another atom the
  // newcomer goes to "atom_hash_collisions" (storage/tables/atom_table.h).
  MDB_dbi atom_hash;
  // "atom_hash_collisions": sha256(32) -> be64(atom_id), for atoms whose
  // 8-byte prefix slot in "atom_hash" holds another atom.
  MDB_dbi atom_hash_collisions;
  // "atom_payload": be64(atom_id) be32(chunk) -> content bytes (<= kChunkBytes).
  MDB_dbi atom_payload;
  // "payload_blocks": be64(block_id) -> u8 PayloadCodec (raw or zstd),
  // be32(raw size), the stored bytes. A block holds the concatenated
  // contents of atoms written together (AtomRecord.payload_block,
  // block_offset); its id is the id of the first atom stored in it.
  MDB_dbi payload_blocks;
  // "payload_block_refs": be64(block_id) -> be32(live members) be32(live raw
  // bytes) be64(last member atom id). A block is deleted with its last live
  // member; `compact` repacks blocks that are mostly dead.
  MDB_dbi payload_block_refs;
  // "atoms_by_refcount": be64(reference_count) be64(atom_id) -> "" (active
  // atoms with two or more references; the others are found in "atoms").
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
  // "atom_children": be64(parent atom_id) -> codec byte + ChildList: a
  // composite's ordered 'contains' edges (documents and paragraphs).
  MDB_dbi atom_children;
  // "atom_containers": be64(child atom_id) be64(parent atom_id) -> "": the
  // parents of a listed child beyond the ones its record holds inline.
  MDB_dbi atom_containers;

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

  // --- models (storage/tables/model_table.h) ---
  MDB_dbi models;          // be64(model_id) -> ModelRecord
  MDB_dbi model_names;     // model_name -> be64(model_id). Unique.
  MDB_dbi model_layers;    // be64(model_id) be32(layer_idx) -> ModelLayerRecord
  MDB_dbi model_metadata;  // be64(model_id) -> ModelMetadataRecord
  // "tensor_atoms": be64(model_id) be32(layer_idx) u8(kind) be32(chunk) ->
  // TensorAtomRecord (storage/tables/tensor_atom_table.h).
  MDB_dbi tensor_atoms;
  MDB_dbi tensor_atom_coefficients;  // be64(tensor_atom_id) be32(i) -> coefficient

  // --- inference (storage/tables/inference_table.h, activation_table.h) ---
  MDB_dbi inference_requests;  // be64(inference_id) -> InferenceRecord (steps inline)
  MDB_dbi inference_by_time;   // be64(~start_us) be64(inference_id) -> ""
  MDB_dbi inference_steps;     // reserved: steps are stored inside InferenceRecord
  MDB_dbi cached_activations;  // be64(layer_id) sha256(input) -> CachedActivationRecord

  // --- document identity (storage/tables/document_source_table.h) ---
  // "document_sources": sha256(source_uri) -> DocumentSourceRecord (the
  // document root the source holds, and the URI itself).
  MDB_dbi document_sources;
  // "document_sources_by_root": be64(document_id) sha256(source_uri) -> ""
  // (the same rows, by root).
  MDB_dbi document_sources_by_root;

  // --- deduplication policies ---
  MDB_dbi dedup_policies;  // be64(policy_id) -> DeduplicationPolicy
  MDB_dbi policy_names;    // policy name -> be64(policy_id). Unique.

  // --- model catalog indexes (storage/tables/model_table.h) ---
  // Added at schema version 4 without bumping it: OpenTables creates them in
  // an existing data dir, and no earlier binary ever wrote the model tables
  // they index, so there is nothing to backfill or to get out of step.
  // "models_by_type": model_type 0x00 be64(model_id) -> "" (models with a
  // non-empty model_type).
  MDB_dbi models_by_type;
  // "models_by_architecture": architecture 0x00 be64(model_id) -> "" (models
  // with a non-empty architecture).
  MDB_dbi models_by_architecture;
  // "model_layer_ids": be64(layer_id) -> be64(model_id) be32(layer_idx), the
  // key of the layer's "model_layers" row. Layer ids come from the
  // "layer_id" sequence.
  MDB_dbi model_layer_ids;

  // --- imported model files (storage/tables/tensor_atom_table.h) ---
  // Added at schema version 4 without bumping it, like the indexes above.
  // "model_files": be64(model_id) -> ModelFileRecord (the file's pieces).
  MDB_dbi model_files;
  // "model_import_staging": be64(import_id) be32(batch) ->
  // ImportStagingRecord (references held by imports in progress).
  MDB_dbi model_import_staging;

  // --- inference logs, added without a version bump (new tables only) ---
  // "inference_by_model": be64(model_id) be64(~start_us) be64(inference_id)
  // -> "" (model 0 = rows without a model).
  MDB_dbi inference_by_model;
  // "inference_by_task": task_type 0x00 be64(~start_us) be64(inference_id) -> "".
  MDB_dbi inference_by_task;
  // "inference_request_ids": request_id -> be64(inference_id) (idempotent retries).
  MDB_dbi inference_request_ids;
  // "inference_aggregates": u8(granularity) be64(model_id) be64(bucket_start_us)
  // task_type -> InferenceAggregateRecord (storage/tables/inference_aggregate_table.h).
  MDB_dbi inference_aggregates;
  // "activation_stats": be64(layer_id) -> ActivationStatsRecord.
  MDB_dbi activation_stats;

  // --- API keys (storage/tables/api_key_table.h), added without a version
  // bump (new tables only) ---
  MDB_dbi api_keys;       // be64(key_id) -> ApiKeyRecord
  MDB_dbi api_key_names;  // key name -> be64(key_id). Unique.

  // --- references still to be released (storage/tables/pending_release_table.h),
  // added without a version bump (a new table only) ---
  MDB_dbi atom_pending_releases;  // be64(atom_id) -> be64(references)

  // --- inference log segments (storage/tables/inference_table.h), added
  // without a version bump (new tables only; a dir without segments holds
  // its rows in slot 0) ---
  // "inference_segments": be64(segment) -> the segment's slot, id range,
  // start-time range, rows and visibility bound.
  MDB_dbi inference_segments;
  // Slot k's tables; [0] are inference_requests, inference_by_time,
  // inference_by_model and inference_by_task above.
  std::array<InferenceSlotTables, kInferenceSlots> inference_slots;

  // Tables whose keys start with be64(atom_id) of the atom that owns them:
  // PurgeInactive deletes those prefixes with the atom. (Relations are first
  // removed edge by edge, both directions, so that no counterpart dangles.)
  std::vector<MDB_dbi> atom_owned() const {
    return {atom_embeddings,        atom_embedding_components, atom_relations,
            atom_relations_reverse, tensor_atoms_by_atom,      atom_children,
            atom_containers};
  }
};

// Content is split into rows of at most this size in "atom_payload".
inline constexpr size_t kChunkBytes = size_t{1} << 20;

struct TableInfo {
  const char* name;
  MDB_dbi Tables::*member;
};
// Every table, in declaration order (inference slots 1.. are not among them).
const std::vector<TableInfo>& AllTables();

// The names of inference slot k's tables: requests, by_time, by_model, by_task.
std::array<std::string, 4> InferenceSlotTableNames(size_t slot);

// Opens every table, creating what is missing, checks the schema version and
// creates the meta records of a new data dir. A dir of a newer version is
// refused, and so is an older one (or one whose migration was interrupted)
// when migrate_from is null; otherwise *migrate_from receives the version
// to migrate from (kSchemaVersion: none), and the caller runs MigrateSchema
// before any other use. A refused dir is left unchanged.
Result<Tables> OpenTables(Env& env, uint32_t* migrate_from = nullptr);

// Reads a meta value written by OpenTables.
Result<std::string> ReadMeta(Env& env, const Tables& tables, const std::string& key);

}  // namespace hartonomous::storage
