#!/usr/bin/env python3
"""Writes the bank import benchmark's inputs: a camt.054.001.02 notification of N payments (entries
of up to 100 KID payments each, the shape of bank.md section 2.5), the CSV of the same rows for the
COPY twin, and the invoices' (number, KID, total) for seeding. Payment i pays invoice i: 80 %
exactly, 10 % less, 5 % more; the last 5 % carry a KID no invoice has (the manual queue).

usage: bank_import_gen.py N ACCOUNT OUT_DIR
"""
import sys


def mod10(base):
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return base + str((10 - total % 10) % 10)


def main():
    n, account, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    invoice_total = 68900
    invoices = int(n * 0.95)
    with open(f"{out}/invoices.csv", "w") as inv:
        for i in range(1, invoices + 1):
            inv.write(f"{i},{mod10(str(i).zfill(9))},{invoice_total}\n")
    xml = open(f"{out}/camt054.xml", "w")
    csv = open(f"{out}/rows.csv", "w")
    xml.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">\n'
              '<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH-0001</MsgId>'
              '<CreDtTm>2026-11-25T06:30:00</CreDtTm></GrpHdr>\n'
              '<Ntfctn><Id>BENCH</Id><CreDtTm>2026-11-25T06:30:00</CreDtTm>'
              f'<Acct><Id><Othr><Id>{account}</Id></Othr></Id></Acct>\n')
    line = 5
    for start in range(1, n + 1, 100):
        batch = range(start, min(start + 100, n + 1))
        amounts = []
        for i in batch:
            k = i % 20
            amounts.append(invoice_total - 5000 if k in (1, 2) else
                           invoice_total + 1000 if k == 3 else invoice_total)
        total = sum(amounts)
        xml.write(f'<Ntry><Amt Ccy="NOK">{total // 100}.{total % 100:02d}</Amt>'
                  '<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-25</Dt></BookgDt>'
                  '<ValDt><Dt>2026-11-25</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>'
                  '<SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls>'
                  f'<Btch><NbOfTxs>{len(amounts)}</NbOfTxs></Btch>\n')
        line += 1
        for i, amount in zip(batch, amounts):
            kid = mod10(str(i if i <= invoices else 900000000 + i).zfill(9))
            ref = f"BENCH-{i:08d}"
            xml.write(f'<TxDtls><Refs><AcctSvcrRef>{ref}</AcctSvcrRef><EndToEndId>NOTPROVIDED'
                      f'</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy="NOK">{amount // 100}.'
                      f'{amount % 100:02d}</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Kari '
                      'Nordmann</Nm></Dbtr><DbtrAcct><Id><Othr><Id>98765432103</Id></Othr></Id>'
                      '</DbtrAcct></RltdPties><RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR'
                      f'</Cd></CdOrPrtry></Tp><Ref>{kid}</Ref></CdtrRefInf></Strd></RmtInf>'
                      '</TxDtls>\n')
            csv.write(f"camt/{ref},{line},{kid},{amount},2026-11-25,2026-11-25,{ref},"
                      f"{account},98765432103,unmatched\n")
            line += 1
        xml.write('</NtryDtls></Ntry>\n')
        line += 1
    xml.write('</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n')


if __name__ == "__main__":
    main()
