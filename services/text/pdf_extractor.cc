#include "services/text/pdf_extractor.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/runtime/log.h"
#include "services/text/pdf_paragraphs.h"
#include "services/text/text_encoding.h"

namespace quarry::text {
namespace {

// PDF readers accept the end-of-file marker anywhere in the last 1024 bytes.
constexpr size_t kEndMarkerWindow = 1024;

void LogPopplerMessage(const std::string& message, void* /*closure*/) {
  runtime::Logger("pdf")->debug("poppler: {}", message);
}

// Poppler prints to stderr until told otherwise; the setting is process-wide.
void RoutePopplerMessagesToLog() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(&LogPopplerMessage, nullptr); });
}

std::string ToUtf8(const poppler::ustring& text) {
  const poppler::byte_array bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

// The text of one page's word, with control characters (which broken font maps produce) removed
// and ill-formed UTF-8 replaced.
std::string CleanWord(const poppler::ustring& text, size_t* replaced_bytes) {
  std::string word = RepairUtf8(ToUtf8(text), replaced_bytes);
  word.erase(std::remove_if(word.begin(), word.end(),
                            [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
             word.end());
  return word;
}

std::vector<PlacedWord> PlacedWords(const poppler::page& page, size_t* replaced_bytes) {
  std::vector<PlacedWord> words;
  for (const poppler::text_box& box : page.text_list()) {
    const poppler::rectf bounds = box.bbox();
    PlacedWord word;
    word.text = CleanWord(box.text(), replaced_bytes);
    word.left = bounds.left();
    word.top = bounds.top();
    word.right = bounds.right();
    word.bottom = bounds.bottom();
    word.space_after = box.has_space_after();
    if (!word.text.empty()) words.push_back(std::move(word));
  }
  return words;
}

absl::Status ExtractPages(const poppler::document& document, TextBlockBuilder* blocks,
                          size_t* replaced_bytes) {
  const int pages = document.pages();
  if (pages <= 0) return absl::InvalidArgumentError("is a damaged PDF: it has no pages");
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(document.create_page(i));
    if (page == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("is a damaged PDF: page ", i + 1, " cannot be read"));
    }
    blocks->SetPage(i + 1);
    for (const std::string& paragraph : GroupIntoParagraphs(PlacedWords(*page, replaced_bytes))) {
      blocks->AddParagraph(paragraph);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExtractPdf(absl::string_view bytes, TextBlockBuilder* blocks, std::string* title,
                        size_t* replaced_bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("is a PDF too large for the PDF reader");
  }
  const size_t tail = bytes.size() > kEndMarkerWindow ? bytes.size() - kEndMarkerWindow : 0;
  if (bytes.substr(tail).find("%%EOF") == absl::string_view::npos) {
    return absl::InvalidArgumentError("is a truncated PDF: it has no %%EOF marker at its end");
  }
  RoutePopplerMessagesToLog();

  // poppler-cpp reports errors by return value, but what it calls may still throw.
  try {
    std::unique_ptr<poppler::document> document(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (document == nullptr) {
      return absl::InvalidArgumentError("is a damaged PDF: the PDF reader cannot open it");
    }
    if (document->is_locked()) {
      return absl::InvalidArgumentError("is an encrypted PDF that needs a password");
    }
    *title = CollapseWhitespace(CleanWord(document->info_key("Title"), replaced_bytes));
    return ExtractPages(*document, blocks, replaced_bytes);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("is a PDF that cannot be read: ", error.what()));
  }
}

}  // namespace quarry::text
