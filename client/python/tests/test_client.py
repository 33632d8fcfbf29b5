"""The hartonomous package against a real hartonomousd: every wrapped call,
the error mapping, numpy input and document progress."""

import hashlib
import json
import os
import socket
import subprocess
import uuid

import grpc
import numpy as np
import pytest

import hartonomous
from hartonomous import HartonomousError


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def test_ingest_get_release_delete_purge(db):
    text = unique("hello atoms")
    first = db.ingest(text, metadata={"team": "py"})
    assert first.created
    assert first.content_hash == hashlib.sha256(text.encode()).hexdigest()
    again = db.ingest(text)
    assert again.atom_id == first.atom_id and not again.created
    assert again.reference_count == 2

    atom = db.get_atom(first.atom_id, content=True)
    assert atom.content == text.encode() and atom.modality == "text"
    assert json.loads(atom.metadata) == {"team": "py"}
    assert db.get_atom(first.content_hash).atom_id == first.atom_id

    assert db.release(first.atom_id).reference_count == 1
    deleted = db.delete(first.atom_id)
    assert not deleted.is_active
    assert db.purge().atoms_purged >= 1
    with pytest.raises(HartonomousError) as e:
        db.get_atom(first.atom_id)
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_ingest_many_is_one_transaction_and_list_pages(db):
    subtype = unique("batch")
    items = [("item %d " % i + subtype).encode() for i in range(120)]
    result = db.ingest_many([{"content": c, "subtype": subtype} for c in items], modality="text")
    assert result.atoms_created == 120
    listed = list(db.list_atoms(subtype=subtype, page_size=7))
    assert [a.atom_id for a in listed] == [r.atom_id for r in result.results]

    stats = db.dedup_stats(top_n=3)
    assert stats.total.unique_atoms >= 120
    assert db.server_stats().items_written >= 120


def test_errors_carry_code_and_field(db):
    with pytest.raises(HartonomousError) as e:
        db.ingest(b"x", modality="text", metadata="[1, 2]")
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.code_name == "INVALID_ARGUMENT"
    assert e.value.field == "metadata"
    assert "metadata" in e.value.message

    with pytest.raises(HartonomousError) as e:
        db.get_collection(unique("missing"))
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_explained():
    target = "127.0.0.1:%d" % free_port()
    with hartonomous.connect(target, timeout=5) as client:
        with pytest.raises(HartonomousError) as e:
            client.server_stats()
    assert e.value.code == grpc.StatusCode.UNAVAILABLE
    assert "cannot reach hartonomousd at " + target in e.value.message


def test_documents_with_progress(db, tmp_path):
    text = "\n\n".join("Paragraph %d. %s. It has two sentences." % (i, unique("p"))
                       for i in range(400))
    path = tmp_path / "notes.txt"
    path.write_text(text)
    seen = []
    doc = db.ingest_document(str(path), progress=lambda sent, total: seen.append((sent, total)))
    assert doc.created and doc.format == "text" and doc.parts >= 400
    assert seen[-1] == (len(text), len(text))
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))

    description, content = db.get_document(doc.document_id)
    assert content == text.encode()
    parts = list(db.relations(doc.document_id, relation_type="contains"))
    assert len(parts) == doc.parts

    from_bytes = db.ingest_document(text.encode() + b"!", source_uri="mem://notes")
    from_chunks = db.ingest_document(iter([b"abc" * 1000, b"def" * 1000]), source_uri="mem://c")
    assert db.get_document(from_chunks.document_id)[1] == b"abc" * 1000 + b"def" * 1000
    assert db.delete_document(from_bytes.document_id).root.atom_id == from_bytes.document_id
    db.delete_document(source_uri="mem://c")
    with pytest.raises(HartonomousError) as e:
        db.get_document(from_chunks.document_id)
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert e.value.field == "document_id"


def test_collections_embeddings_and_searches_take_numpy(db):
    name = unique("vec")
    created = db.create_collection(name, dimension=4, metric="l2", index="flat")
    assert created.spec.dimension == 4
    assert name in [c.name for c in db.list_collections()]

    ids = [db.ingest(unique("v%d" % i), metadata={"row": i}).atom_id for i in range(50)]
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((50, 4)).astype(np.float32)
    added = db.add_embeddings(name, ids, vectors, metadata=[{"row": i} for i in range(50)])
    assert added.embeddings_added == 50
    assert db.get_collection(name).vector_count == 50
    emb = db.get_embeddings(ids[3], collection=name)
    assert np.allclose(np.array(emb[0].vector), vectors[3])

    found = db.search(name, vector=vectors[5], k=3)
    assert found.results[0].atom_id == ids[5]
    assert db.search(name, vector=list(map(float, vectors[6])), k=1).results[0].atom_id == ids[6]
    by_atom = db.search(name, atom_id=ids[7], k=2)
    assert ids[7] not in [r.atom_id for r in by_atom.results]
    filtered = db.search(name, vector=vectors[0], k=5, where={"row": 9})
    assert [r.atom_id for r in filtered.results] == [ids[9]]

    batch = db.batch_search(name, vectors[10:13], k=1)
    assert [r.results[0].atom_id for r in batch] == ids[10:13]

    hybrid = db.hybrid_search(name, vector=vectors[20], k=1, fraction=1.0, report_recall=True)
    assert hybrid.results[0].atom_id == ids[20]
    point = emb[0].spatial_geometry
    near = db.spatial_query(name, at=(point.x, point.y, point.z), nearest=1)
    assert near.hits[0].atom_id == ids[3]
    assert db.refit(name, kind="random").version >= 1

    with pytest.raises(HartonomousError) as e:
        db.add_embeddings(name, [ids[0]], np.zeros((1, 3), dtype=np.float32))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.field is not None and "vector" in e.value.field

    db.delete_collection(name)
    assert name not in [c.name for c in db.list_collections()]


def test_ingest_with_an_embedding(db):
    name = unique("notes")
    db.create_collection(name, dimension=3)
    atom = db.ingest(unique("note"), collection=name, vector=np.array([1, 0, 0], np.float32))
    assert db.get_embeddings(atom.atom_id, collection=name)[0].vector == [1.0, 0.0, 0.0]


def test_policies(db):
    name = unique("loose")
    created = db.create_policy(name, semantic_threshold=0.9, metadata={"owner": "py"})
    assert created.policy_id > 0 and created.semantic_threshold == pytest.approx(0.9)
    assert db.get_policy(name).policy_id == created.policy_id
    assert created.policy_id in [p.policy_id for p in db.list_policies()]
    updated = db.update_policy(created.policy_id, semantic_threshold=None, spatial_threshold=0.5,
                               is_active=False)
    assert not updated.HasField("semantic_threshold") and updated.spatial_threshold == 0.5
    assert created.policy_id in [p.policy_id for p in db.list_policies(active=False)]
    renamed = db.update_policy(name, policy_name=name + "-x")
    assert renamed.policy_name == name + "-x"
    assert db.delete_policy(name + "-x").policy_id == created.policy_id
    with pytest.raises(HartonomousError) as e:
        db.create_policy("bad name!")
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and e.value.field is not None


def test_models_and_inference_logs(db):
    name = unique("py-model")
    model = db.create_model(name, model_type="transformer", architecture="llama",
                            config={"hidden_size": 8})
    assert db.get_model(name).model_id == model.model_id
    assert db.get_model(model.model_id).architecture == "llama"
    assert [m.model_id for m in db.list_models(name_prefix=name)] == [model.model_id]

    logged = db.log_inference(name, "chat", input_text="What is LMDB?",
                              output_text="A key-value store.", duration_ms=12.5,
                              input_tokens=4, output_tokens=5)
    got = db.get_inference(logged.inference_id)
    assert got.model_id == model.model_id and got.input_text == "What is LMDB?"
    assert logged.inference_id in [i.inference_id for i in db.list_inferences(model.model_id)]

    db.delete_model(name)
    with pytest.raises(HartonomousError) as e:
        db.get_model(name)
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_api_keys_and_roles():
    """A daemon of its own (a key turns authentication on for good): the
    bootstrap admin creates a read key, which may read but not write; a
    revoked key is refused."""
    from conftest import Daemon
    admin_key = "py-bootstrap-" + uuid.uuid4().hex
    d = Daemon(os.environ["HARTONOMOUSD"], ["--admin-key", admin_key])
    try:
        with hartonomous.connect(d.address, timeout=30) as anonymous:
            anonymous.wait_until_serving(timeout=30)  # health needs no key
            with pytest.raises(HartonomousError) as e:
                anonymous.server_stats()
            assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
        with hartonomous.connect(d.address, timeout=30, api_key=admin_key) as admin:
            created = admin.create_api_key("py-reader", "read")
            assert created.key.name == "py-reader"
            assert created.token.startswith("htk_")
            with pytest.raises(ValueError):
                admin.create_api_key("x", "root")
            with hartonomous.connect(d.address, timeout=30, api_key=created.token) as reader:
                assert reader.server_stats().uptime_seconds >= 0
                with pytest.raises(HartonomousError) as e:
                    reader.ingest(b"not allowed", modality="text")
                assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
                assert "requires write" in e.value.message
                revoked = admin.revoke_api_key(created.key.key_id)
                assert revoked.HasField("revoked_at")
                with pytest.raises(HartonomousError) as e:
                    reader.server_stats()
                assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert [k.name for k in admin.list_api_keys()] == ["py-reader"]
        os.environ["HARTONOMOUS_API_KEY"] = admin_key
        try:
            with hartonomous.connect(d.address, timeout=30) as from_env:
                assert len(from_env.list_api_keys()) == 1
        finally:
            del os.environ["HARTONOMOUS_API_KEY"]
    finally:
        d.stop()


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def test_tls_and_mutual_tls(tmp_path):
    """A daemon of its own with mutual TLS; certificates made with the openssl
    command: a CA, the server's (for 127.0.0.1) and a client's."""
    from conftest import Daemon
    d = str(tmp_path)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-subj", "/CN=py-ca", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "1", "-addext", "basicConstraints=critical,CA:TRUE", cwd=d)
    for name in ("server", "client"):
        _openssl("req", *ec, "-subj", "/CN=py-" + name, "-keyout", name + ".key",
                 "-out", name + ".csr", "-addext", "subjectAltName=IP:127.0.0.1", cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "1", "-copy_extensions", "copy",
                 "-out", name + ".pem", cwd=d)
    path = lambda name: os.path.join(d, name)
    daemon = Daemon(os.environ["HARTONOMOUSD"],
                    ["--tls-cert-file", path("server.pem"), "--tls-key-file", path("server.key"),
                     "--tls-client-ca-file", path("ca.pem")])
    try:
        with hartonomous.connect(daemon.address, timeout=30, tls_ca=path("ca.pem"),
                                 tls_cert=path("client.pem"), tls_key=path("client.key")) as db:
            db.wait_until_serving(timeout=30)
            atom = db.ingest(b"over mutual TLS", modality="text")
            assert db.get_atom(atom.atom_id).atom_id == atom.atom_id
        with hartonomous.connect(daemon.address, timeout=5, tls_ca=path("ca.pem")) as no_cert:
            with pytest.raises(HartonomousError) as e:
                no_cert.server_stats()
            assert e.value.code == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(ValueError):
            hartonomous.connect(daemon.address, tls_cert=path("client.pem"))
    finally:
        daemon.stop()
