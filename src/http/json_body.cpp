#include "http/json_body.hpp"

#include <optional>
#include <set>

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using Json = nlohmann::json;

namespace {

bool is_json(const Request& req) {
  const std::string_view value = req[bhttp::field::content_type];
  return value.substr(0, value.find(';')) == "application/json";
}

// RFC 6901: "~" is written "~0" and "/" is written "~1" inside a reference token.
void append_token(std::string& pointer, std::string_view key) {
  pointer += '/';
  for (char c : key) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
}

// Follows the parser's events to know where it is, so a repeated key can be named by pointer.
class DuplicateKeyFinder {
 public:
  bool on_event(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        stack_.push_back(Frame{event == Json::parse_event_t::object_start, {}, {}, 0});
        break;
      case Json::parse_event_t::key: {
        auto& frame = stack_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second && !found_) found_ = pointer();
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        stack_.pop_back();
        element_done();
        break;
      case Json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  }
  const std::optional<std::string>& found() const { return found_; }

 private:
  struct Frame {
    bool object;
    std::set<std::string, std::less<>> keys;
    std::string key;    // the member being read (objects)
    std::size_t index;  // the element being read (arrays)
  };
  void element_done() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
  }
  std::string pointer() const {
    std::string out;
    for (const auto& f : stack_) {
      if (f.object) {
        append_token(out, f.key);
      } else {
        out += '/' + std::to_string(f.index);
      }
    }
    return out;
  }

  std::vector<Frame> stack_;
  std::optional<std::string> found_;
};

}  // namespace

std::variant<Json, common::Error> parse_json(std::string_view text) {
  DuplicateKeyFinder finder;
  Json::parser_callback_t callback = [&finder](int /*depth*/, Json::parse_event_t event,
                                               Json& parsed) {
    return finder.on_event(event, parsed);
  };
  auto doc = Json::parse(text, callback, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error(ErrorCode::malformed_json, "the body is not a valid UTF-8 JSON document");
  }
  if (const auto& key = finder.found()) {
    common::Error e = make_error(ErrorCode::validation_failed, "a JSON object has a key twice");
    e.fields.push_back({*key, "appears more than once"});
    return e;
  }
  return doc;
}

std::variant<Json, common::Error> object_body(const Request& req) {
  if (req.body().empty()) return Json::object();
  if (!is_json(req)) {
    return make_error(ErrorCode::unsupported_media_type, "send Content-Type: application/json");
  }
  auto parsed = parse_json(req.body());
  if (auto* error = std::get_if<common::Error>(&parsed)) return std::move(*error);
  auto& body = std::get<Json>(parsed);
  if (!body.is_object()) {
    common::Error e = make_error(ErrorCode::validation_failed, "the body must be a JSON object");
    e.fields.push_back({"", "must be an object"});
    return e;
  }
  return std::move(body);
}

std::string text_member(const Json& body, const std::string& key, bool required,
                        std::size_t max_bytes, std::vector<common::FieldError>& errors) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) errors.push_back({"/" + key, "is required"});
    return {};
  }
  if (!it->is_string()) {
    errors.push_back({"/" + key, "must be a string"});
    return {};
  }
  auto value = it->get<std::string>();
  if (required && value.find_first_not_of(" \t") == std::string::npos) {
    errors.push_back({"/" + key, "must not be empty"});
  } else if (value.size() > max_bytes) {
    errors.push_back({"/" + key, "must be at most " + std::to_string(max_bytes) + " bytes"});
  }
  return value;
}

common::Error invalid(std::vector<common::FieldError> errors) {
  common::Error e = make_error(ErrorCode::validation_failed,
                               std::to_string(errors.size()) + " field(s) are invalid");
  e.fields = std::move(errors);
  return e;
}

}  // namespace visitpay::http
