# Embeds schemas/openapi.json so /openapi.json serves exactly the committed contract.
file(READ ${IN} doc)
file(WRITE ${OUT}.tmp "// Generated from schemas/openapi.json by embed_openapi.cmake. Do not edit.\n#include <string_view>\n\nnamespace visitpay::http {\nstd::string_view openapi_document() {\n  static constexpr std::string_view doc = R\"visitpay_json(${doc})visitpay_json\";\n  return doc;\n}\n}  // namespace visitpay::http\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
