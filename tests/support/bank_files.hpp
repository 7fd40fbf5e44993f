#pragma once

// Bank files built from the formats' specifications (bank.md §1 OCR giro, §2 camt.054), for the
// tests that pay invoices through an import.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace visitpay::testing {

struct Paid {
  std::string kid;
  std::int64_t amount = 0;
  std::string reference;  // OCR: 9-digit archive reference; camt: AcctSvcrRef
};

inline std::string zeros(std::int64_t v, std::size_t width) {
  auto s = std::to_string(v);
  return std::string(width - std::min(width, s.size()), '0') + s;
}

inline std::string padded(std::string s, std::size_t width, char fill) {
  s.append(width - std::min(width, s.size()), fill);
  return s;
}

// An OCR giro transmission with one assignment to `account` (record layouts: bank.md §1.2-1.8).
inline std::string ocr_file(const std::string& transmission, const std::string& account,
                            const std::vector<Paid>& payments) {
  std::string out;
  out += padded("NY00001000008080" + transmission + "00012345", 80, '0') + "\n";
  out += padded("NY090020001234567" + zeros(1, 7) + account, 80, '0') + "\n";
  std::int64_t total = 0;
  for (std::size_t i = 0; i < payments.size(); ++i) {
    const auto& p = payments[i];
    const auto tx = zeros(static_cast<std::int64_t>(i + 1), 7);
    out += "NY091030" + tx + "1501251315100017" + "0" + zeros(p.amount, 17) +
           std::string(25 - p.kid.size(), ' ') + p.kid + "000000\n";
    out += padded("NY091031" + tx + "0123456789" + p.reference + "0000000140125" + "98765432103",
                  80, '0') +
           "\n";
    total += p.amount;
  }
  const auto n = static_cast<std::int64_t>(payments.size());
  out += padded("NY090088" + zeros(n, 8) + zeros(2 * n + 2, 8) + zeros(total, 17) +
                    "150125150125150125",
                80, '0') +
         "\n";
  out += padded("NY000089" + zeros(n, 8) + zeros(2 * n + 4, 8) + zeros(total, 17) + "150125", 80,
                '0') +
         "\n";
  return out;
}

inline std::string kroner(std::int64_t ore) {
  return std::to_string(ore / 100) + "." + zeros(ore % 100, 2);
}

// A camt.054.001.02 notification, one booked entry per payment (bank.md §2.5's shape).
inline std::string camt_file(const std::string& msg_id, const std::string& account,
                             const std::vector<Paid>& payments) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02\">\n"
      "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>" +
      msg_id +
      "</MsgId><CreDtTm>2026-11-25T06:30:00</CreDtTm></GrpHdr>\n"
      "<Ntfctn><Id>N1</Id><CreDtTm>2026-11-25T06:30:00</CreDtTm><Acct><Id><Othr><Id>" +
      account + "</Id></Othr></Id></Acct>\n";
  for (const auto& p : payments) {
    out += "<Ntry><Amt Ccy=\"NOK\">" + kroner(p.amount) +
           "</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
           "<BookgDt><Dt>2026-11-25</Dt></BookgDt><ValDt><Dt>2026-11-25</Dt></ValDt>"
           "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly>"
           "</Domn></BkTxCd><NtryDtls><TxDtls><Refs><AcctSvcrRef>" +
           p.reference +
           "</AcctSvcrRef></Refs>"
           "<RltdPties><Dbtr><Nm>Kari Nordmann</Nm></Dbtr></RltdPties>"
           "<RmtInf><Strd><CdtrRefInf><Ref>" +
           p.kid + "</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>\n";
  }
  return out + "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n";
}

}  // namespace visitpay::testing
