#include "services/text/html_extractor.h"

#include <gumbo.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace quarry::text {
namespace {

// Class names that mark site navigation rather than content.
constexpr absl::string_view kNavigationClasses[] = {
    "nav",        "navbar",      "navheader", "navfooter", "navigation",
    "breadcrumb", "breadcrumbs", "skip-link", "skiplink",  "menu"};

// ARIA landmark roles that hold site navigation rather than content.
constexpr absl::string_view kNavigationRoles[] = {"navigation", "banner", "contentinfo", "search"};

bool IsDroppedTag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_DATALIST:
      return true;
    default:
      return false;
  }
}

// Elements that start and end a block of text.
bool IsBlockTag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_UL:
      return true;
    default:
      return false;
  }
}

bool IsSectioningTag(GumboTag tag) {
  return tag == GUMBO_TAG_ARTICLE || tag == GUMBO_TAG_SECTION || tag == GUMBO_TAG_MAIN ||
         tag == GUMBO_TAG_ASIDE;
}

// 1 to 6 for h1 to h6, else 0.
int HeadingLevel(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1:
      return 1;
    case GUMBO_TAG_H2:
      return 2;
    case GUMBO_TAG_H3:
      return 3;
    case GUMBO_TAG_H4:
      return 4;
    case GUMBO_TAG_H5:
      return 5;
    case GUMBO_TAG_H6:
      return 6;
    default:
      return 0;
  }
}

absl::string_view Attribute(const GumboElement& element, const char* name) {
  const GumboAttribute* attribute = gumbo_get_attribute(&element.attributes, name);
  return attribute == nullptr ? absl::string_view() : absl::string_view(attribute->value);
}

// Hidden from readers, or marked as navigation, by its attributes.
bool IsHiddenOrNavigation(const GumboElement& element) {
  if (gumbo_get_attribute(&element.attributes, "hidden") != nullptr) return true;
  if (absl::EqualsIgnoreCase(Attribute(element, "aria-hidden"), "true")) return true;

  std::string style = absl::AsciiStrToLower(Attribute(element, "style"));
  style.erase(std::remove(style.begin(), style.end(), ' '), style.end());
  if (absl::StrContains(style, "display:none")) return true;

  const absl::string_view role = Attribute(element, "role");
  for (absl::string_view navigation : kNavigationRoles) {
    if (absl::EqualsIgnoreCase(role, navigation)) return true;
  }
  for (absl::string_view name :
       absl::StrSplit(Attribute(element, "class"), absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
    for (absl::string_view navigation : kNavigationClasses) {
      if (absl::EqualsIgnoreCase(name, navigation)) return true;
    }
  }
  return false;
}

// Walks the parsed tree in document order without recursion, so no nesting depth in the input
// can exhaust the stack.
class HtmlWalker {
 public:
  HtmlWalker(TextBlockBuilder* blocks, std::string* title) : blocks_(blocks), title_(title) {}

  void Walk(const GumboNode* root) {
    struct Frame {
      const GumboNode* node;
      unsigned next_child;
    };
    std::vector<Frame> stack;
    if (Enter(root)) stack.push_back({root, 0});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      const GumboVector& children = frame.node->v.element.children;
      if (frame.next_child == children.length) {
        Exit(frame.node);
        stack.pop_back();
        continue;
      }
      const auto* child = static_cast<const GumboNode*>(children.data[frame.next_child++]);
      if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_CDATA ||
          child->type == GUMBO_NODE_WHITESPACE) {
        AppendText(child->v.text.text);
      } else if ((child->type == GUMBO_NODE_ELEMENT || child->type == GUMBO_NODE_DOCUMENT) &&
                 Enter(child)) {
        stack.push_back({child, 0});
      }
    }
    FlushParagraph();
  }

 private:
  // Starts an element; returns whether to walk its children.
  bool Enter(const GumboNode* node) {
    if (node->type == GUMBO_NODE_DOCUMENT) return true;
    const GumboElement& element = node->v.element;
    if (element.tag == GUMBO_TAG_TITLE) {
      if (title_->empty()) *title_ = CollapseWhitespace(TextOf(element));
      return false;
    }
    if (IsDroppedTag(element.tag) || IsHiddenOrNavigation(element)) return false;
    if (element.tag == GUMBO_TAG_FOOTER && sectioning_depth_ == 0) return false;

    if (const int level = HeadingLevel(element.tag); level > 0) {
      FlushParagraph();
      if (heading_level_ == 0) heading_level_ = level;
      return true;
    }
    if (element.tag == GUMBO_TAG_PRE || element.tag == GUMBO_TAG_LISTING) {
      FlushParagraph();
      ++preformatted_depth_;
      return true;
    }
    if (element.tag == GUMBO_TAG_BR) {
      AppendText(preformatted_depth_ > 0 ? "\n" : " ");
      return false;
    }
    if (element.tag == GUMBO_TAG_TD || element.tag == GUMBO_TAG_TH) {
      if (!absl::StripAsciiWhitespace(text_).empty()) text_.append(" | ");
      return true;
    }
    if (IsBlockTag(element.tag) && heading_level_ > 0 &&
        !absl::StripAsciiWhitespace(heading_text_).empty()) {
      // A block inside a heading that already has its text, as an unclosed <h2> followed by
      // <p> parses: the heading ends here and the block is body text under it.
      blocks_->AddHeading(heading_level_, heading_text_);
      heading_text_.clear();
      heading_level_ = 0;
    }
    if (IsBlockTag(element.tag)) FlushParagraph();
    if (IsSectioningTag(element.tag)) ++sectioning_depth_;
    if (element.tag == GUMBO_TAG_HEADER && sectioning_depth_ == 0) ++banner_depth_;
    return true;
  }

  void Exit(const GumboNode* node) {
    if (node->type == GUMBO_NODE_DOCUMENT) return;
    const GumboElement& element = node->v.element;
    if (const int level = HeadingLevel(element.tag); level > 0) {
      if (heading_level_ == level) {
        blocks_->AddHeading(level, heading_text_);
        heading_text_.clear();
        heading_level_ = 0;
      }
      return;
    }
    if (element.tag == GUMBO_TAG_PRE || element.tag == GUMBO_TAG_LISTING) {
      if (--preformatted_depth_ == 0) {
        blocks_->AddVerbatim(text_);
        text_.clear();
      }
      return;
    }
    if (IsBlockTag(element.tag)) FlushParagraph();
    if (IsSectioningTag(element.tag)) --sectioning_depth_;
    if (element.tag == GUMBO_TAG_HEADER && sectioning_depth_ == 0) --banner_depth_;
  }

  void AppendText(absl::string_view text) {
    if (heading_level_ > 0) {
      heading_text_.append(text.data(), text.size());
    } else if (banner_depth_ == 0) {
      text_.append(text.data(), text.size());
    }
  }

  void FlushParagraph() {
    if (preformatted_depth_ > 0) return;  // <pre> content is one block, however it is nested
    blocks_->AddParagraph(text_);
    text_.clear();
  }

  // The text directly inside `element`, as for <title>, which holds nothing else.
  static std::string TextOf(const GumboElement& element) {
    std::string text;
    for (unsigned i = 0; i < element.children.length; ++i) {
      const auto* child = static_cast<const GumboNode*>(element.children.data[i]);
      if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE) {
        text.append(child->v.text.text);
      }
    }
    return text;
  }

  TextBlockBuilder* const blocks_;
  std::string* const title_;
  std::string text_;          // the open block's raw text
  std::string heading_text_;  // the open heading's raw text
  int heading_level_ = 0;     // of the open heading; 0 outside headings
  int preformatted_depth_ = 0;
  int sectioning_depth_ = 0;  // open article, section, main and aside elements
  int banner_depth_ = 0;      // open page-level <header> elements
};

void DestroyGumboOutput(GumboOutput* output) {
  gumbo_destroy_output(&kGumboDefaultOptions, output);
}

}  // namespace

void ExtractHtml(absl::string_view html, TextBlockBuilder* blocks, std::string* title) {
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // parse errors are not reported, so not worth recording
  std::unique_ptr<GumboOutput, decltype(&DestroyGumboOutput)> output(
      gumbo_parse_with_options(&options, html.data(), html.size()), &DestroyGumboOutput);
  title->clear();
  HtmlWalker(blocks, title).Walk(output->document);
}

}  // namespace quarry::text
