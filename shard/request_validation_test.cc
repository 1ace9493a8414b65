#include "shard/request_validation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "shard/test_util.h"

namespace quarry::shard {
namespace {

constexpr int kDim = 4;

RequestLimits Limits() {
  RequestLimits limits;
  limits.dimension = kDim;
  limits.metric = Metric::kInnerProduct;
  limits.max_k = 100;
  return limits;
}

// Asserts INVALID_ARGUMENT whose message mentions `field`.
void ExpectInvalid(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find(field), absl::string_view::npos) << status;
}

TEST(RequestValidation, UpsertProblemsNameTheField) {
  v1::UpsertRequest request;
  ExpectInvalid(ValidateUpsert(request, Limits()), "documents");

  *request.add_documents() = testing::MakeDocument("acme", "a", 2, kDim, 1);
  EXPECT_TRUE(ValidateUpsert(request, Limits()).ok());

  v1::UpsertRequest wrong_dim = request;
  wrong_dim.mutable_documents(0)->mutable_chunks(1)->mutable_vector()->Add(1.0f);
  ExpectInvalid(ValidateUpsert(wrong_dim, Limits()), "documents[0].chunks[1].vector has 5");

  v1::UpsertRequest nan = request;
  nan.mutable_documents(0)->mutable_chunks(0)->set_vector(2, std::nanf(""));
  ExpectInvalid(ValidateUpsert(nan, Limits()), "non-finite");
  v1::UpsertRequest inf = request;
  inf.mutable_documents(0)->mutable_chunks(0)->set_vector(0,
                                                          std::numeric_limits<float>::infinity());
  ExpectInvalid(ValidateUpsert(inf, Limits()), "non-finite");

  v1::UpsertRequest zero = request;
  for (int i = 0; i < kDim; ++i) zero.mutable_documents(0)->mutable_chunks(0)->set_vector(i, 0);
  ExpectInvalid(ValidateUpsert(zero, Limits()), "all zeros");

  v1::UpsertRequest no_tenant = request;
  no_tenant.mutable_documents(0)->mutable_document()->clear_tenant();
  ExpectInvalid(ValidateUpsert(no_tenant, Limits()), "tenant is missing");

  v1::UpsertRequest odd_tenant = request;
  odd_tenant.mutable_documents(0)->mutable_document()->set_tenant("acme corp\n");
  ExpectInvalid(ValidateUpsert(odd_tenant, Limits()), "only letters, digits");

  v1::UpsertRequest no_id = request;
  no_id.mutable_documents(0)->mutable_document()->clear_id();
  ExpectInvalid(ValidateUpsert(no_id, Limits()), "document.id is empty");

  v1::UpsertRequest twice = request;
  *twice.add_documents() = request.documents(0);
  ExpectInvalid(ValidateUpsert(twice, Limits()), "appears twice");

  v1::UpsertRequest same_ordinal = request;
  same_ordinal.mutable_documents(0)->mutable_chunks(1)->set_ordinal(0);
  ExpectInvalid(ValidateUpsert(same_ordinal, Limits()), "ordinal");

  v1::UpsertRequest nul = request;
  nul.mutable_documents(0)->mutable_document()->set_id(std::string("a\0b", 3));
  ExpectInvalid(ValidateUpsert(nul, Limits()), "NUL");

  RequestLimits small = Limits();
  small.max_chunks = 1;
  ExpectInvalid(ValidateUpsert(request, small), "more than 1 chunks");
}

TEST(RequestValidation, SearchProblemsNameTheField) {
  v1::SearchRequest request = testing::MakeSearch({1, 2, 3, 4}, 10, "acme");
  EXPECT_TRUE(ValidateSearch(request, Limits()).ok());

  v1::SearchRequest k0 = request;
  k0.set_k(0);
  ExpectInvalid(ValidateSearch(k0, Limits()), "k is 0");
  v1::SearchRequest k_big = request;
  k_big.set_k(101);
  ExpectInvalid(ValidateSearch(k_big, Limits()), "from 1 to 100");

  v1::SearchRequest no_tenant = request;
  no_tenant.mutable_principal()->clear_tenant();
  ExpectInvalid(ValidateSearch(no_tenant, Limits()), "principal.tenant");

  v1::SearchRequest short_vector = testing::MakeSearch({1, 2}, 10, "acme");
  ExpectInvalid(ValidateSearch(short_vector, Limits()), "dimension is 4");

  v1::SearchRequest bad_range = request;
  auto* range = bad_range.mutable_filter()->add_ranges();
  range->set_key("year");
  range->set_min(5);
  range->set_max(1);
  ExpectInvalid(ValidateSearch(bad_range, Limits()), "filter.ranges[0]");

  v1::SearchRequest empty_values = request;
  empty_values.mutable_filter()->add_metadata()->set_key("lang");
  ExpectInvalid(ValidateSearch(empty_values, Limits()), "filter.metadata[0].values");
}

TEST(RequestValidation, DeleteAndGetChunks) {
  v1::DeleteRequest del;
  ExpectInvalid(ValidateDelete(del, Limits()), "tenant");
  del.set_tenant("acme");
  ExpectInvalid(ValidateDelete(del, Limits()), "doc_ids");
  del.add_doc_ids("a");
  del.add_doc_ids("a");
  ExpectInvalid(ValidateDelete(del, Limits()), "doc_ids[1]");

  v1::GetChunksRequest get;
  get.mutable_principal()->set_tenant("acme");
  ExpectInvalid(ValidateGetChunks(get, Limits()), "both empty");
  get.add_chunk_ids(7);
  EXPECT_TRUE(ValidateGetChunks(get, Limits()).ok());
}

}  // namespace
}  // namespace quarry::shard
