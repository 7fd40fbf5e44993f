-- The check-out body both wrk scripts send (tests/bench/checkout.lua, the script e2e_bench.sh
-- writes): the README's example with the given visit_id. wrk runs from the repository root, so
-- the scripts load this file with dofile("tests/bench/checkout_body.lua").
local head = '{"clinic_id":"oslo-sentrum","visit_id":"'
local tail = '","checked_out_at":"2026-11-22T14:05:00+01:00","currency":"NOK",'
  .. '"fee_terms":{"accepted_at":"2026-11-22T13:40:00+01:00","version":"2026-01"},'
  .. '"lines":[{"description":"Konsultasjon spesialist","amount":65000,"vat_amount":0}],'
  .. '"payer":{"name":"Kari Nordmann","national_id":"10915596784","phone":"+4741234567",'
  .. '"address":{"street":"Storgata 1","postal_code":"0155","city":"Oslo","country":"NO"}}}'

return function(visit_id)
  return head .. visit_id .. tail
end
