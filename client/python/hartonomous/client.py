"""Client: an idiomatic layer over the generated hartonomous.v1 stubs.

Every method returns the API's own protobuf messages (fields as in
docs/api.md) and raises HartonomousError on failure. A Client owns one gRPC
channel; it may be shared by threads. Use it as a context manager or call
close().
"""

import json
import os

import grpc

from .errors import HartonomousError
from .v1 import admin_service_pb2 as admin_pb
from .v1 import admin_service_pb2_grpc as admin_grpc
from .v1 import atom_service_pb2 as atom_pb
from .v1 import auth_pb2 as auth_pb
from .v1 import atom_service_pb2_grpc as atom_grpc
from .v1 import common_pb2
from .v1 import inference_service_pb2 as inference_pb
from .v1 import inference_service_pb2_grpc as inference_grpc
from .v1 import model_service_pb2 as model_pb
from .v1 import model_service_pb2_grpc as model_grpc
from .v1 import search_service_pb2 as search_pb
from .v1 import search_service_pb2_grpc as search_grpc

DEFAULT_TARGET = "127.0.0.1:50051"
_CHUNK = 1 << 20  # bytes per streamed message
_METRICS = {"cosine": search_pb.METRIC_COSINE, "l2": search_pb.METRIC_L2,
            "ip": search_pb.METRIC_INNER_PRODUCT}


def _tls_credentials(tls, ca, cert, key):
    """grpc.ChannelCredentials for the TLS files given, or None for plaintext."""
    if not (tls or ca or cert or key):
        return None
    if bool(cert) != bool(key):
        raise ValueError("TLS: a client certificate needs both tls_cert and tls_key")

    def read(path):
        if not path:
            return None
        with open(path, "rb") as f:
            return f.read()
    return grpc.ssl_channel_credentials(root_certificates=read(ca), private_key=read(key),
                                        certificate_chain=read(cert))


def _metadata(value):
    """A dict (or JSON object text, or None) as the API's JSON object text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _rows(vectors):
    """A 2-D numpy array, or a sequence of sequences, as lists of floats."""
    if hasattr(vectors, "tolist") and hasattr(vectors, "ndim"):
        if vectors.ndim == 1:
            vectors = vectors.reshape(1, -1)
        if vectors.ndim != 2:
            raise ValueError("vectors: expected a 2-D array, got %d dimensions" % vectors.ndim)
        return [list(map(float, row)) for row in vectors.astype("float32").tolist()]
    return [[float(x) for x in row] for row in vectors]


def _vector(vector):
    if vector is None:
        return []
    if hasattr(vector, "ndim"):
        if vector.ndim != 1:
            raise ValueError("vector: expected a 1-D array, got %d dimensions" % vector.ndim)
        return [float(x) for x in vector.astype("float32").tolist()]
    return [float(x) for x in vector]


def _filter(where=None, modality="", subtype="", source_type="", active_only=False):
    f = search_pb.AtomFilter(modality=modality, subtype=subtype, source_type=source_type,
                             active_only=active_only)
    for key, value in (where or {}).items():
        f.metadata_equals[key] = value if isinstance(value, str) else json.dumps(value)
    return f


def _point(xyz):
    x, y, z = xyz
    return common_pb2.Point3(x=float(x), y=float(y), z=float(z))


def _key(message_type, key, id_field, name_field):
    """A request naming a record by id (int) or by name (str)."""
    if isinstance(key, int):
        return message_type(**{id_field: key})
    return message_type(**{name_field: key})


class Client:
    def __init__(self, target=None, timeout=60.0, channel=None, api_key=None, tls=False,
                 tls_ca=None, tls_cert=None, tls_key=None):
        """target: HOST:PORT (default $HARTONOMOUS_SERVER, else 127.0.0.1:50051);
        timeout: seconds for each call (and each whole stream); api_key: sent as
        "authorization: Bearer KEY" with every call (default $HARTONOMOUS_API_KEY,
        else none). TLS: tls=True trusts the system's CAs; tls_ca (a PEM file,
        default $HARTONOMOUS_TLS_CA) the CAs in it; tls_cert and tls_key (PEM
        files, default $HARTONOMOUS_TLS_CERT / _KEY) are a client certificate
        for mutual TLS. Any of them turns TLS on."""
        self.target = target or os.environ.get("HARTONOMOUS_SERVER") or DEFAULT_TARGET
        self.timeout = timeout
        api_key = api_key or os.environ.get("HARTONOMOUS_API_KEY")
        self._auth = (("authorization", "Bearer " + api_key),) if api_key else None
        options = [("grpc.max_receive_message_length", 512 << 20)]
        credentials = _tls_credentials(tls, tls_ca or os.environ.get("HARTONOMOUS_TLS_CA"),
                                       tls_cert or os.environ.get("HARTONOMOUS_TLS_CERT"),
                                       tls_key or os.environ.get("HARTONOMOUS_TLS_KEY"))
        if channel is not None:
            self._channel = channel
        elif credentials is not None:
            self._channel = grpc.secure_channel(self.target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(self.target, options=options)
        self.atoms = atom_grpc.AtomServiceStub(self._channel)
        self.search_service = search_grpc.SearchServiceStub(self._channel)
        self.models = model_grpc.ModelServiceStub(self._channel)
        self.inference = inference_grpc.InferenceServiceStub(self._channel)
        self.admin = admin_grpc.AdminServiceStub(self._channel)

    # --- plumbing ---
    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout, metadata=self._auth)
        except grpc.RpcError as e:
            raise HartonomousError.from_rpc_error(e, self.target) from None

    def _stream_out(self, method, request):
        """A server-streaming call as a list of its messages."""
        try:
            return list(method(request, timeout=self.timeout, metadata=self._auth))
        except grpc.RpcError as e:
            raise HartonomousError.from_rpc_error(e, self.target) from None

    def wait_until_serving(self, timeout=10.0):
        """Waits until the server's grpc.health.v1 status is SERVING."""
        # grpc.health.v1.Health/Watch sends the current status, then every
        # change: the first SERVING ends the wait. HealthCheckRequest{} is
        # empty; a response is field 1 = status (1 = SERVING).
        watch = self._channel.unary_stream("/grpc.health.v1.Health/Watch")
        last = b""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
            for answer in watch(b"", timeout=timeout, wait_for_ready=True):
                last = answer
                if answer == b"\x08\x01":
                    return
        except grpc.FutureTimeoutError:
            raise HartonomousError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                   "cannot reach hartonomousd at %s within %gs: is it running?"
                                   % (self.target, timeout)) from None
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise HartonomousError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                       "hartonomousd at %s was not SERVING within %gs"
                                       % (self.target, timeout)) from None
            raise HartonomousError.from_rpc_error(e, self.target) from None
        raise HartonomousError(grpc.StatusCode.UNAVAILABLE,
                               "the server ended the health watch without SERVING (last status %r)"
                               % last)

    # --- atoms ---
    def ingest(self, content, modality="", metadata=None, policy="", collection="", vector=None,
               **fields):
        """Stores content (bytes or str) as an atom; returns IngestAtomResponse
        (atom_id, content_hash, reference_count, created). fields: subtype,
        source_uri, source_type, canonical_text, ... (IngestAtomRequest)."""
        return self._call(self.atoms.IngestAtom,
                          self._atom_request(content, modality, metadata, policy, collection,
                                             vector, fields))

    def _atom_request(self, content, modality, metadata, policy, collection, vector, fields):
        if isinstance(content, str):
            content = content.encode("utf-8")
            fields.setdefault("canonical_text", content.decode("utf-8"))
            modality = modality or "text"
        request = atom_pb.IngestAtomRequest(content=content, modality=modality,
                                            metadata=_metadata(metadata), policy=policy, **fields)
        if collection or vector is not None:
            request.embedding.collection = collection
            request.embedding.vector.extend(_vector(vector))
        return request

    def ingest_many(self, items, modality=""):
        """Stores every item in one stream, one transaction (all or none). items:
        bytes/str, or dicts of ingest()'s arguments. Returns IngestAtomsResponse."""
        def messages():
            batch, size = atom_pb.IngestAtomsRequest(), 0
            for item in items:
                args = dict(item) if isinstance(item, dict) else {"content": item}
                args.setdefault("modality", modality)
                request = self._atom_request(args.pop("content"), args.pop("modality"),
                                             args.pop("metadata", None), args.pop("policy", ""),
                                             args.pop("collection", ""), args.pop("vector", None),
                                             args)
                if size and size + len(request.content) > _CHUNK:
                    yield batch
                    batch, size = atom_pb.IngestAtomsRequest(), 0
                batch.atoms.append(request)
                size += len(request.content)
            if size or len(batch.atoms):
                yield batch
        return self._call(self.atoms.IngestAtoms, messages())

    def get_atom(self, key, content=False):
        """An atom by atom id (int) or content hash (64 hex characters)."""
        request = atom_pb.GetAtomRequest(include_content=content)
        if isinstance(key, int):
            request.atom_id = key
        else:
            request.content_hash = key
        return self._call(self.atoms.GetAtom, request)

    def list_atoms(self, page_size=0, **fields):
        """Every matching atom in atom id order, page after page (a generator).
        fields: modality, subtype, source_type, is_active, include_content."""
        request = atom_pb.ListAtomsRequest(page_size=page_size, **fields)
        while True:
            page = self._call(self.atoms.ListAtoms, request)
            yield from page.atoms
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token

    def release(self, atom_id):
        return self._call(self.atoms.ReleaseAtom, atom_pb.ReleaseAtomRequest(atom_id=atom_id))

    def delete(self, atom_id):
        return self._call(self.atoms.DeleteAtom, atom_pb.DeleteAtomRequest(atom_id=atom_id))

    def purge(self, max_atoms=0):
        return self._call(self.atoms.PurgeInactive,
                          atom_pb.PurgeInactiveRequest(max_atoms=max_atoms))

    def dedup_stats(self, top_n=0):
        return self._call(self.atoms.GetDedupStats, atom_pb.GetDedupStatsRequest(top_n=top_n))

    def server_stats(self):
        return self._call(self.admin.GetStats, admin_pb.GetStatsRequest())

    # --- API keys (admin) ---
    def create_api_key(self, name, role):
        """A new key; role: "read", "write" or "admin". Returns
        CreateApiKeyResponse: key (key_id, name, role, ...) and token, shown once."""
        roles = {"read": auth_pb.ROLE_READ, "write": auth_pb.ROLE_WRITE,
                 "admin": auth_pb.ROLE_ADMIN}
        if role not in roles:
            raise ValueError("role: one of read, write, admin; got %r" % (role,))
        return self._call(self.admin.CreateApiKey,
                          admin_pb.CreateApiKeyRequest(name=name, role=roles[role]))

    def list_api_keys(self):
        """Every ApiKey, revoked ones included (no secrets)."""
        return list(self._call(self.admin.ListApiKeys, admin_pb.ListApiKeysRequest()).keys)

    def revoke_api_key(self, key_id):
        return self._call(self.admin.RevokeApiKey, admin_pb.RevokeApiKeyRequest(key_id=key_id))

    # --- documents ---
    def ingest_document(self, source, modality="", source_uri="", metadata=None, progress=None,
                        **fields):
        """Stores a document, decomposed into atoms; returns IngestDocumentResponse
        (document_id, format, parts, atoms_created, ...). source: a path, bytes, a
        binary file object or an iterable of bytes chunks. progress(sent, total)
        is called after each chunk (total None when unknown). A path's source_uri
        defaults to file:// + its absolute path."""
        total = None
        if isinstance(source, (str, os.PathLike)):
            path = os.path.abspath(os.fspath(source))
            total = os.path.getsize(path)
            source_uri = source_uri or "file://" + path
            chunks = _file_chunks(open(path, "rb"), close=True)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            total = len(data)
            chunks = (data[i:i + _CHUNK] for i in range(0, max(total, 1), _CHUNK))
        elif hasattr(source, "read"):
            chunks = _file_chunks(source, close=False)
        else:
            chunks = iter(source)

        def messages():
            header = atom_pb.IngestDocumentRequest(modality=modality, source_uri=source_uri,
                                                   metadata=_metadata(metadata), **fields)
            sent, first = 0, True
            for chunk in chunks:
                if first:
                    header.content = chunk
                    yield header
                    first = False
                else:
                    yield atom_pb.IngestDocumentRequest(content=chunk)
                sent += len(chunk)
                if progress:
                    progress(sent, total)
            if first:
                yield header
        return self._call(self.atoms.IngestDocument, messages())

    def get_document(self, document_id, decoded=False):
        """(DocumentDescription, bytes): the document rebuilt from its atoms."""
        parts = self._stream_out(self.atoms.GetDocument,
                                 atom_pb.GetDocumentRequest(document_id=document_id,
                                                            decoded=decoded))
        description = parts[0].description if parts else None
        return description, b"".join(p.content for p in parts[1:])

    def delete_document(self, document_id=0, source_uri=""):
        return self._call(self.atoms.DeleteDocument,
                          atom_pb.DeleteDocumentRequest(document_id=document_id,
                                                        source_uri=source_uri))

    def relations(self, atom_id, relation_type="", parents=False):
        """Every relation edge out of (or, with parents, into) the atom."""
        request = atom_pb.ListRelationsRequest(
            atom_id=atom_id, relation_type=relation_type,
            direction=atom_pb.PARENTS if parents else atom_pb.CHILDREN)
        while True:
            page = self._call(self.atoms.ListRelations, request)
            yield from page.relations
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token

    # --- collections, embeddings, search ---
    def create_collection(self, name, dimension, metric="cosine", index="hnsw",
                          embedding_type=None, model_id=0, **index_fields):
        """index_fields: m, ef_construction, ef_search (IndexConfig)."""
        if metric not in _METRICS:
            raise ValueError("metric: one of %s, got %r" % (", ".join(_METRICS), metric))
        spec = search_pb.CollectionSpec(
            embedding_type=embedding_type or name, model_id=model_id, dimension=dimension,
            metric=_METRICS[metric], index=search_pb.IndexConfig(kind=index, **index_fields))
        return self._call(self.search_service.CreateCollection,
                          search_pb.CreateCollectionRequest(name=name, spec=spec))

    def get_collection(self, name):
        return self._call(self.search_service.GetCollection,
                          search_pb.GetCollectionRequest(name=name))

    def list_collections(self):
        return list(self._call(self.search_service.ListCollections,
                               search_pb.ListCollectionsRequest()).collections)

    def delete_collection(self, name):
        self._call(self.search_service.DeleteCollection,
                   search_pb.DeleteCollectionRequest(name=name))

    def add_embeddings(self, collection, atom_ids, vectors, metadata=None):
        """One vector per atom (or document) id, in one transaction. vectors: a 2-D
        numpy array or a list of lists; metadata: None, one dict for all, or one
        per row. Returns AddEmbeddingsResponse."""
        rows = _rows(vectors)
        ids = [int(i) for i in atom_ids]
        if len(ids) != len(rows):
            raise ValueError("atom_ids: %d ids for %d vectors" % (len(ids), len(rows)))
        per_row = isinstance(metadata, (list, tuple))

        def messages():
            message = search_pb.AddEmbeddingsRequest(collection=collection)
            size = 0
            for i, (atom_id, row) in enumerate(zip(ids, rows)):
                message.embeddings.append(search_pb.EmbeddingInput(
                    atom_id=atom_id, vector=row,
                    metadata=_metadata(metadata[i] if per_row else metadata)))
                size += 4 * len(row) + 16
                if size >= _CHUNK:
                    yield message
                    message, size = search_pb.AddEmbeddingsRequest(collection=collection), 0
            if size or not ids:
                yield message
        return self._call(self.search_service.AddEmbeddings, messages())

    def get_embeddings(self, atom_id, collection=""):
        return list(self._call(self.search_service.GetEmbeddings,
                               search_pb.GetEmbeddingsRequest(atom_id=atom_id,
                                                              collection=collection)).embeddings)

    def _search_request(self, collection, vector, atom_id, k, where, exact, ef, text, filters):
        return search_pb.SearchRequest(
            collection=collection, vector=_vector(vector), atom_id=atom_id or 0, limit=k,
            filter=_filter(where, **filters), params=search_pb.SearchParams(ef=ef, exact=exact),
            with_canonical_text=text, with_metadata=True)

    def search(self, collection, vector=None, atom_id=None, k=10, where=None, exact=False, ef=0,
               text=False, **filters):
        """The k nearest atoms to vector (a list or 1-D numpy array) or to atom_id's
        embedding. where: {metadata key: value}; filters: modality, subtype,
        source_type, active_only. Returns SearchResponse (results nearest first)."""
        return self._call(self.search_service.Search,
                          self._search_request(collection, vector, atom_id, k, where, exact, ef,
                                               text, filters))

    def batch_search(self, collection, vectors, k=10, where=None, exact=False, **filters):
        """One search per row of vectors; a list of SearchResponse in row order."""
        request = search_pb.BatchSearchRequest(searches=[
            self._search_request(collection, row, None, k, where, exact, 0, False, filters)
            for row in _rows(vectors)])
        return list(self._call(self.search_service.BatchSearch, request).results)

    def hybrid_search(self, collection, vector=None, atom_id=None, k=10, radius=None,
                      fraction=None, center=None, report_recall=False, where=None, **fields):
        """Spatial prefilter (radius, or the nearest fraction) then exact rerank."""
        request = search_pb.HybridSearchRequest(
            collection=collection, vector=_vector(vector), atom_id=atom_id or 0, limit=k,
            report_recall=report_recall, filter=_filter(where), with_metadata=True, **fields)
        if radius is not None:
            request.radius = radius
        if fraction is not None:
            request.keep_fraction = fraction
        if center is not None:
            request.center.CopyFrom(_point(center))
        return self._call(self.search_service.HybridSearch, request)

    def spatial_query(self, collection, at=None, radius=None, nearest=None, box=None, limit=0,
                      space="fine"):
        """Projected points within radius of at, the nearest `nearest` to at, or
        within box=((x0,y0,z0),(x1,y1,z1)). space: fine, coarse or atom."""
        spaces = {"fine": search_pb.SPATIAL_SPACE_FINE, "coarse": search_pb.SPATIAL_SPACE_COARSE,
                  "atom": search_pb.SPATIAL_SPACE_ATOM}
        request = search_pb.SpatialQueryRequest(collection=collection, space=spaces[space],
                                                limit=limit)
        if radius is not None:
            request.within_radius.center.CopyFrom(_point(at))
            request.within_radius.radius = radius
        elif nearest is not None:
            request.nearest.center.CopyFrom(_point(at))
            request.nearest.k = nearest
        elif box is not None:
            request.within_box.min.CopyFrom(_point(box[0]))
            request.within_box.max.CopyFrom(_point(box[1]))
        else:
            raise ValueError("give radius=, nearest= or box=")
        return self._call(self.search_service.SpatialQuery, request)

    def refit(self, collection, **fields):
        return self._call(self.search_service.RefitProjection,
                          search_pb.RefitProjectionRequest(collection=collection, **fields))

    # --- deduplication policies ---
    def create_policy(self, name, hash_enabled=True, semantic_threshold=None,
                      spatial_threshold=None, active=True, metadata=None):
        policy = atom_pb.DeduplicationPolicy(policy_name=name, hash_enabled=hash_enabled,
                                             is_active=active, metadata=_metadata(metadata))
        if semantic_threshold is not None:
            policy.semantic_threshold = semantic_threshold
        if spatial_threshold is not None:
            policy.spatial_threshold = spatial_threshold
        return self._call(self.atoms.CreatePolicy, atom_pb.CreatePolicyRequest(policy=policy))

    def get_policy(self, key):
        """key: policy id (int) or name (str)."""
        return self._call(self.atoms.GetPolicy,
                          _key(atom_pb.GetPolicyRequest, key, "policy_id", "policy_name"))

    def list_policies(self, active=None):
        request = atom_pb.ListPoliciesRequest()
        if active is not None:
            request.is_active = active
        out = []
        while True:
            page = self._call(self.atoms.ListPolicies, request)
            out.extend(page.policies)
            if not page.next_page_token:
                return out
            request.page_token = page.next_page_token

    def update_policy(self, key, **changes):
        """changes: policy_name, hash_enabled, semantic_threshold, spatial_threshold
        (None clears a threshold), is_active, metadata. Only these are changed."""
        policy = _key(atom_pb.DeduplicationPolicy, key, "policy_id", "policy_name")
        request = atom_pb.UpdatePolicyRequest(policy=policy)
        if "policy_name" in changes and not isinstance(key, int):
            request.policy.policy_id = self.get_policy(key).policy_id
        for field, value in changes.items():
            if field == "metadata":
                value = _metadata(value)
            if value is not None:
                setattr(request.policy, field, value)
            request.update_mask.paths.append(field)
        return self._call(self.atoms.UpdatePolicy, request)

    def delete_policy(self, key):
        return self._call(self.atoms.DeletePolicy,
                          _key(atom_pb.DeletePolicyRequest, key, "policy_id", "policy_name"))

    # --- models ---
    def create_model(self, name, model_type="", architecture="", config=None, **fields):
        """fields: further Model fields (parameter_count, ...)."""
        model = model_pb.Model(model_name=name, model_type=model_type, architecture=architecture,
                               config_json=_metadata(config), **fields)
        return self._call(self.models.CreateModel, model_pb.CreateModelRequest(model=model))

    def get_model(self, key):
        return self._call(self.models.GetModel,
                          _key(model_pb.GetModelRequest, key, "model_id", "model_name"))

    def list_models(self, **filters):
        """filters: model_name, name_prefix, model_type, architecture."""
        request = model_pb.ListModelsRequest(**filters)
        while True:
            page = self._call(self.models.ListModels, request)
            yield from page.models
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token

    def delete_model(self, key):
        return self._call(self.models.DeleteModel,
                          _key(model_pb.DeleteModelRequest, key, "model_id", "model_name"))

    # --- inference logs ---
    def log_inference(self, model, task_type, input_text=None, output_text=None, metadata=None,
                      **fields):
        """model: model id (int) or name. fields: duration_ms, confidence,
        input_tokens, output_tokens, request_id, ... (LogInferenceRequest)."""
        request = inference_pb.LogInferenceRequest(task_type=task_type,
                                                   metadata=_metadata(metadata), **fields)
        if isinstance(model, int):
            request.model_id = model
        else:
            request.model_name = model
        if input_text is not None:
            request.input_text = input_text.encode() if isinstance(input_text, str) else input_text
        if output_text is not None:
            request.output_text = (output_text.encode() if isinstance(output_text, str)
                                   else output_text)
        return self._call(self.inference.LogInference, request)

    def get_inference(self, inference_id):
        return self._call(self.inference.GetInference,
                          inference_pb.GetInferenceRequest(inference_id=inference_id))

    def list_inferences(self, model_id=None, task_type="", include_text=False):
        request = inference_pb.ListInferencesRequest(task_type=task_type,
                                                     include_text=include_text)
        if model_id is not None:
            request.model_id = model_id
        while True:
            page = self._call(self.inference.ListInferences, request)
            yield from page.inferences
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token


def _file_chunks(f, close):
    try:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        if close:
            f.close()


def connect(target=None, timeout=60.0, api_key=None, **tls):
    """A Client of hartonomousd at target (HOST:PORT; default $HARTONOMOUS_SERVER,
    else 127.0.0.1:50051), sending api_key (default $HARTONOMOUS_API_KEY); tls,
    tls_ca, tls_cert, tls_key as for Client."""
    return Client(target, timeout=timeout, api_key=api_key, **tls)
