// Checks Quarry's tokenizers against js-tiktoken on megabytes of real English and Chinese text
// and on crafted edge cases: every id of every file must be the same.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/text/js_tiktoken_reference.h"
#include "services/text/tokenizer.h"

namespace quarry::text {
namespace {

constexpr const char* kEncodings[] = {"cl100k_base", "o200k_base"};

// Text that is rare in the corpus but where tokenizers tend to differ.
void WriteCraftedCorpus(const std::filesystem::path& directory) {
  std::filesystem::create_directories(directory);
  const std::vector<std::string> texts = {
      "abc\xFF\xFE def \xE4\xBD \xC0\xAF \xED\xA0\x80 \xF4\x90\x80\x80 end\xE4",
      "<|endoftext|> <|fim_prefix|><|endofprompt|> text",
      "  \n\n \t \r\n\r\n   x  \xE3\x80\x80\xE3\x80\x80y \xC2\xA0z     ",
      "I'M YOU'RE we'LL it's 'tis 1234567890 3.14e-10 0x7FFF",
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 "
      "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5 caf\xC3\xA9 na\xC3\xAFve \xD0\x9F\xD1\x80\xD0\xB8",
      std::string(3000, ' ') + "x" + std::string(5000, 'y') + std::string("\0\x01\x7F", 3),
  };
  for (size_t i = 0; i < texts.size(); ++i) {
    std::ofstream(directory / absl::StrCat("crafted_", i, ".txt"), std::ios::binary) << texts[i];
  }
}

// Where Quarry's ids first differ from the reference's, with the text around it, for a message.
std::string DescribeMismatch(const Tokenizer& tokenizer, const ReferenceDocument& document,
                             const std::vector<uint32_t>& ours) {
  size_t i = 0;
  while (i < ours.size() && i < document.ids.size() && ours[i] == document.ids[i]) ++i;
  const auto around = [&](const std::vector<uint32_t>& ids) {
    std::vector<uint32_t> window(ids.begin() + std::min(i, ids.size()),
                                 ids.begin() + std::min(i + 5, ids.size()));
    std::string text;
    for (uint32_t id : window)
      absl::StrAppend(&text, "[", id, " ", tokenizer.Decode({id}).value_or("?"), "]");
    return absl::CHexEscape(text);
  };
  return absl::StrCat(document.path, ": ", ours.size(), " ids against ", document.ids.size(),
                      "; first difference at id ", i, ": ours ", around(ours), " reference ",
                      around(document.ids));
}

TEST(TokenizerConformance, MatchesJsTiktokenOnEnglishAndChineseText) {
  const std::filesystem::path work_dir =
      std::filesystem::path(::testing::TempDir()) / "tokenizer_conformance";
  WriteCraftedCorpus(work_dir / "crafted");
  std::vector<CorpusPart> corpus = EnglishAndChineseCorpus();
  for (const CorpusPart& part : corpus) {
    ASSERT_TRUE(std::filesystem::is_directory(part.directory))
        << part.directory << " is missing; scripts/bootstrap installs it";
  }
  corpus.push_back({(work_dir / "crafted").string(), 1 << 20});

  // Both encodings at once: js-tiktoken is the slow side, and there are two cores.
  std::vector<JsTiktokenRun> runs;
  for (const char* encoding : kEncodings) {
    absl::StatusOr<JsTiktokenRun> run = JsTiktokenRun::Start(
        {.encoding = encoding, .corpus = corpus, .work_dir = work_dir.string()});
    ASSERT_TRUE(run.ok()) << run.status();
    runs.push_back(*std::move(run));
  }

  for (size_t e = 0; e < runs.size(); ++e) {
    absl::StatusOr<ReferenceResult> reference = runs[e].Wait();
    ASSERT_TRUE(reference.ok()) << reference.status();
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::Create(kEncodings[e]);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();

    size_t bytes = 0, ids = 0, chinese_files = 0, mismatched_files = 0;
    for (const ReferenceDocument& document : reference->documents) {
      bytes += document.bytes.size();
      ids += document.ids.size();
      chinese_files += document.path.find("/man/zh_") != std::string::npos;
      const std::vector<uint32_t> ours = (*tokenizer)->Encode(document.bytes);
      if (ours != document.ids) {
        if (++mismatched_files <= 5) {
          ADD_FAILURE() << kEncodings[e] << ": " << DescribeMismatch(**tokenizer, document, ours);
        }
      }
    }
    EXPECT_EQ(mismatched_files, 0u) << kEncodings[e];
    EXPECT_GE(bytes, 5'000'000u) << "the corpus is smaller than intended";
    EXPECT_GE(chinese_files, 100u) << "the corpus lacks Chinese text";
    std::printf("%s: %zu files, %zu bytes, %zu ids, %zu files differ\n", kEncodings[e],
                reference->documents.size(), bytes, ids, mismatched_files);
  }
}

}  // namespace
}  // namespace quarry::text
