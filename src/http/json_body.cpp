#include "http/json_body.hpp"

#include <optional>
#include <utility>

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using Json = nlohmann::json;

namespace {

bool is_json(const Request& req) {
  const std::string_view value = req[bhttp::field::content_type];
  return value.substr(0, value.find(';')) == "application/json";
}

// Builds the document from the parser's events (nlohmann's SAX interface) and notices a key its
// object already has, naming the first one by pointer. Unlike a parser callback this keeps no
// set of keys: the object under construction is the set.
class DocumentBuilder {
 public:
  explicit DocumentBuilder(Json& root) : root_(root) {}

  bool null() { return value(nullptr); }
  bool boolean(bool v) { return value(v); }
  bool number_integer(Json::number_integer_t v) { return value(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return value(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return value(v); }
  bool string(Json::string_t& v) { return value(std::move(v)); }
  bool binary(Json::binary_t& v) { return value(std::move(v)); }
  bool start_object(std::size_t /*size*/) { return open(Json::value_t::object); }
  bool start_array(std::size_t /*size*/) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& k) {
    auto& frame = stack_.back();
    if (!duplicate_ && frame.node->contains(k)) duplicate_ = pointer_to(k);
    frame.key = std::move(k);
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const Json::exception& /*error*/) {
    return false;
  }

  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    Json* node;       // an object or an array being filled
    std::string key;  // objects: the member being read
  };

  // Puts `v` where the parser is (the root, the current member, the next element) and
  // returns it.
  Json& place(Json v) {
    if (stack_.empty()) return root_ = std::move(v);
    auto& frame = stack_.back();
    if (frame.node->is_object()) return (*frame.node)[frame.key] = std::move(v);
    frame.node->push_back(std::move(v));
    return frame.node->back();
  }
  template <typename V>
  bool value(V&& v) {
    place(Json(std::forward<V>(v)));
    return true;
  }
  // A container's address stays valid while it is on the stack: its parent gets no new
  // members or elements until it is closed.
  bool open(Json::value_t type) {
    stack_.push_back(Frame{&place(Json(type)), {}});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  // The pointer of member `k` of the innermost object.
  std::string pointer_to(std::string_view k) const {
    std::string out;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      const auto& f = stack_[i];
      if (f.node->is_object()) {
        append_pointer_token(out, f.key);
      } else {
        out += '/' + std::to_string(f.node->size() - 1);
      }
    }
    append_pointer_token(out, k);
    return out;
  }

  Json& root_;
  std::vector<Frame> stack_;
  std::optional<std::string> duplicate_;
};

}  // namespace

void append_pointer_token(std::string& pointer, std::string_view key) {
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

std::variant<Json, common::Error> parse_json(std::string_view text) {
  Json doc;
  DocumentBuilder builder(doc);
  if (!Json::sax_parse(text, &builder, Json::input_format_t::json, /*strict=*/true)) {
    return make_error(ErrorCode::malformed_json, "the body is not a valid UTF-8 JSON document");
  }
  if (const auto& key = builder.duplicate()) {
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
