// AdminService's API key RPCs: validation and conversion around
// engine::ApiKeyEngine.
#include "server/rpc/admin/admin_service.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/timestamp.h"

namespace hartonomous::rpc {
namespace {

constexpr size_t kMaxKeyNameBytes = 64;

Status ValidateKeyName(const std::string& name) {
  bool valid = !name.empty() && name.size() <= kMaxKeyNameBytes;
  for (char c : name) {
    valid &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '.' || c == '-';
  }
  if (valid) return Status::Ok();
  return Status::InvalidArgument("name: must match [A-Za-z0-9_.-]{1,64}, got '" +
                                 name.substr(0, 80) + "'");
}

void ToApiKey(const storage::ApiKeyRecord& record, v1::ApiKey* out) {
  out->set_key_id(record.key_id());
  out->set_name(record.name());
  out->set_role(static_cast<v1::Role>(record.role()));
  ToTimestamp(record.created_at_us(), out->mutable_created_at());
  if (record.revoked_at_us() != 0) ToTimestamp(record.revoked_at_us(), out->mutable_revoked_at());
}

grpc::Status NoKeys() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "API keys: not available in this server");
}

}  // namespace

void AdminServiceImpl::CreateApiKey(grpc::ServerContextBase*,
                                    const v1::CreateApiKeyRequest* request,
                                    v1::CreateApiKeyResponse* response, UnaryFinish finish) {
  if (api_keys_ == nullptr) return finish(NoKeys());
  if (Status valid = ValidateKeyName(request->name()); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  const std::optional<engine::Role> role =
      engine::RoleFromValue(static_cast<uint32_t>(request->role()));
  if (!role) {
    return finish(ToGrpcStatus(
        Status::InvalidArgument("role: must be ROLE_READ, ROLE_WRITE or ROLE_ADMIN, got " +
                                std::to_string(static_cast<int>(request->role())))));
  }
  api_keys_->CreateAsync(
      request->name(), *role,
      [response, finish = std::move(finish)](Result<engine::CreatedApiKey> created) {
        if (!created.ok()) return finish(ToGrpcStatus(created.status()));
        ToApiKey(created->record, response->mutable_key());
        response->set_token(std::move(created->token));
        finish(grpc::Status::OK);
      });
}

grpc::Status AdminServiceImpl::ListApiKeys(grpc::ServerContextBase*, const v1::ListApiKeysRequest*,
                                           v1::ListApiKeysResponse* response) {
  if (api_keys_ == nullptr) return NoKeys();
  for (const storage::ApiKeyRecord& record : api_keys_->List()) {
    ToApiKey(record, response->add_keys());
  }
  return grpc::Status::OK;
}

void AdminServiceImpl::RevokeApiKey(grpc::ServerContextBase*,
                                    const v1::RevokeApiKeyRequest* request, v1::ApiKey* response,
                                    UnaryFinish finish) {
  if (api_keys_ == nullptr) return finish(NoKeys());
  if (request->key_id() == 0) {
    return finish(ToGrpcStatus(Status::InvalidArgument("key_id: must be set (> 0)")));
  }
  api_keys_->RevokeAsync(request->key_id(), [response, finish = std::move(finish)](
                                                Result<storage::ApiKeyRecord> revoked) {
    if (!revoked.ok()) return finish(ToGrpcStatus(revoked.status()));
    ToApiKey(*revoked, response);
    finish(grpc::Status::OK);
  });
}

}  // namespace hartonomous::rpc
